/**
 * FleetView (issue "Scheduler scale-out"): what this instance may dispatch to among the nodes other
 * instances hold, and when it tells the dispatcher that one is lost. The fleet is a fake port.
 */
import { describe, expect, it } from 'vitest';
import { FleetView } from '../../../src/actors/scheduler/fleet-view.js';
import { createBus } from '../../../src/kernel/bus.js';
import type { BusEvent } from '../../../src/kernel/bus-events.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { FleetInstance, FleetPort, RemoteNode } from '../../../src/kernel/ports/fleet.port.js';

const SPEECH = { mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: true, use_tts: true } } as const;

function remote(nodeId: string, owner: string, overrides: Partial<RemoteNode> = {}): RemoteNode {
  return { nodeId, owner, registrationId: `${owner}/1`, status: 'ready', pools: { speech: ['en:es'], text: ['en:es'] }, maxConcurrentJobs: 4, ...overrides };
}

function setup(local: string[] = []) {
  const records = new Map<string, RemoteNode>();
  let instances: FleetInstance[] = [];
  const fleet = {
    instanceId: 'sched-SELF',
    instances: async () => instances,
    nodes: async (ids: readonly string[]) => ids.flatMap((id) => (records.has(id) ? [records.get(id)!] : [])),
    allNodes: async () => [...records.values()],
  } as unknown as FleetPort;
  const bus = createBus();
  const events: BusEvent[] = [];
  bus.subscribeAll((e) => events.push(e));
  const view = new FleetView({ fleet, bus, logger: silentLogger(), isLocal: (id) => local.includes(id), signal: new AbortController().signal });
  const live = (...ids: string[]) => {
    instances = ids.map((instanceId) => ({ instanceId, startedAt: 0, leaseUntil: 0 }));
  };
  const lost = () => events.filter((e) => e.type === 'fleet.nodeLost').map((e) => (e.type === 'fleet.nodeLost' ? [e.nodeId, e.why] : []));
  return { view, records, live, lost, events };
}

describe('FleetView', () => {
  it('offers the ready nodes of live instances, never its own or one it holds locally', async () => {
    const { view, records, live } = setup(['node-L']);
    live('sched-SELF', 'sched-B');
    records.set('node-B', remote('node-B', 'sched-B'));
    records.set('node-S', remote('node-S', 'sched-SELF'));
    records.set('node-L', remote('node-L', 'sched-B'));
    records.set('node-W', remote('node-W', 'sched-B', { status: 'registering', pools: { speech: [], text: [] } }));
    await view.resync();
    expect(view.eligible(SPEECH)).toEqual(['node-B']);
    expect(view.eligible({ mode: 'two_way', langA: 'en', langB: 'es', pipeline: SPEECH.pipeline })).toEqual([]);
    expect(view.node('node-B')).toMatchObject({ owner: 'sched-B', maxConcurrentJobs: 4 });
    expect(view.node('node-S')).toBeUndefined();
  });

  it('loses a node that registered again elsewhere, left ready, or whose record went away', async () => {
    const { view, records, live, lost } = setup();
    live('sched-SELF', 'sched-B', 'sched-C');
    for (const id of ['node-1', 'node-2', 'node-3']) records.set(id, remote(id, 'sched-C'));
    await view.resync();
    records.set('node-1', remote('node-1', 'sched-B', { registrationId: 'sched-B/7' }));
    records.set('node-2', remote('node-2', 'sched-C', { status: 'draining', pools: { speech: [], text: [] } }));
    records.delete('node-3');
    await view.refresh(['node-1', 'node-2', 'node-3']);
    expect(lost()).toEqual([
      ['node-1', 'registered again on sched-B'],
      ['node-2', 'now draining'],
      ['node-3', 'record gone'],
    ]);
    expect(view.eligible(SPEECH)).toEqual(['node-1']);
  });

  it('loses the nodes of an instance whose lease ran out, and every remote node while the store is down', async () => {
    const { view, records, live, lost } = setup();
    live('sched-SELF', 'sched-B', 'sched-C');
    records.set('node-B', remote('node-B', 'sched-B'));
    records.set('node-C', remote('node-C', 'sched-C'));
    await view.resync();
    live('sched-SELF', 'sched-B');
    await view.refreshInstances();
    expect(lost()).toEqual([['node-C', 'owner sched-C lost its lease']]);
    expect(view.eligible(SPEECH)).toEqual(['node-B']);
    view.setStoreUp(false);
    expect(view.eligible(SPEECH)).toEqual([]);
    expect(lost().map(([id]) => id)).toEqual(['node-C', 'node-B', 'node-C']);
    view.setStoreUp(true);
    expect(view.eligible(SPEECH)).toEqual(['node-B']);
  });

  it('reads the instances first when a record names one it has not seen', async () => {
    const { view, records, live } = setup();
    live('sched-SELF');
    await view.resync();
    live('sched-SELF', 'sched-NEW');
    records.set('node-N', remote('node-N', 'sched-NEW'));
    await view.refresh(['node-N']);
    expect(view.eligible(SPEECH)).toEqual(['node-N']);
  });
});
