/**
 * The node machines under the sharded `registry` supervisor: each starts under the shard its id
 * hashes to, announces `registering` to its owner, and a shard that is replaced reports its nodes
 * as lost (they must register again).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { AnyActorRef } from 'xstate';
import { NodeMachines, REGISTRY_SHARDS, shardOf } from '../../../src/actors/scheduler/node-machines.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { supervisorMachine } from '../../../src/kernel/supervisor.js';
import type { NodeStatusEmitted, NodeStatusOptions } from '../../../src/machines/node-status.machine.js';

const OPTIONS: NodeStatusOptions = { healthCheckCount: 3, failureWindow: 5, failureCount: 3, consecutiveFailures: 3, warmupTimeoutMs: 60_000, heartbeatTimeoutMs: 45_000, offlineRetentionMs: 60_000 };

const roots: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const root of roots.splice(0)) root.stop();
});

function boot() {
  const clock = new FakeClock();
  const refs = new Map<string, AnyActorRef>();
  const events: NodeStatusEmitted[] = [];
  const lost: string[] = [];
  const machines = new NodeMachines(
    {
      attached: (nodeId, ref) => {
        refs.set(nodeId, ref);
        return true;
      },
      emitted: (event) => events.push(event),
      lost: (nodeId) => lost.push(nodeId),
    },
    OPTIONS,
    silentLogger(),
  );
  const root = createActor(supervisorMachine, { clock, input: { id: 'root', strategy: 'one_for_one', clock, children: [machines.supervisorSpec(clock)] } });
  root.subscribe({ error: () => undefined });
  root.start();
  roots.push(root);
  const registry = root.system.get('registry') as AnyActorRef;
  return { clock, machines, refs, events, lost, registry };
}

describe('node machines', () => {
  it('spreads node ids over the shards', () => {
    const used = new Set(Array.from({ length: 1_000 }, (_, i) => shardOf(`node-${i.toString(16).padStart(8, '0')}`)));
    expect(used.size).toBe(REGISTRY_SHARDS);
  });

  it('starts a machine under its shard, which announces registering to the owner', () => {
    const { machines, refs, events } = boot();
    machines.spawn('node-1', 0);
    expect(refs.get('node-1')?.id).toBe('node:node-1');
    expect(events).toEqual([{ type: 'node.statusChanged', nodeId: 'node-1', from: 'none', to: 'registering', reason: 'registered' }]);
  });

  it('reports the nodes of a replaced shard as lost, and stops a terminated machine', async () => {
    const { machines, refs, lost, registry } = boot();
    const ids = Array.from({ length: 400 }, (_, i) => `node-${i}`);
    const sameShard = ids.filter((id) => shardOf(id) === shardOf('node-0')).slice(0, 2);
    const other = ids.find((id) => shardOf(id) !== shardOf('node-0'))!;
    for (const id of [...sameShard, other]) machines.spawn(id, 0);
    registry.send({ type: 'supervisor.restartChild', id: `shard:${shardOf('node-0').toString(16).padStart(2, '0')}` });
    await Promise.resolve();
    expect(lost.sort()).toEqual([...sameShard].sort());
    machines.terminate(other);
    await Promise.resolve();
    expect(refs.get(other)?.getSnapshot().status).toBe('done');
  });
});
