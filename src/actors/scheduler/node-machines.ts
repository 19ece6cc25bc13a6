/**
 * The status machines of the nodes (`node:<id>`) and the supervisors they run under:
 *
 *   registry (supervisor, system id `registry`)
 *   └─ shard:00 … shard:3f (supervisors) └─ node:<id> (nodeStatusMachine, temporary)
 *
 * A supervisor, like XState's own record of an actor's children, costs time in its number of
 * children at every spawn and stop, so the machines are spread over `REGISTRY_SHARDS` shards by a
 * hash of the node id. The machines report to the owner through one provided `report` action
 * rather than a listener on each (`actor.on` gives every actor a set and a bound function): the
 * events carry the node id, so nothing is allocated per machine for them.
 */
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import { supervisorChild } from '../../kernel/supervisor.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { SYSTEM_IDS } from '../../kernel/system.js';
import { nodeStatusMachine } from '../../machines/node-status.machine.js';
import type { NodeStatusEmitted, NodeStatusOptions } from '../../machines/node-status.machine.js';

/** Number of shard supervisors the node machines are spread over. */
export const REGISTRY_SHARDS = 64;

/** What the machines tell their owner (from inside the machine's own transition, for `emitted`). */
export interface NodeMachineOwner {
  /** A fresh machine for `nodeId` starts; false when the node is no longer wanted. */
  attached(nodeId: string, ref: AnyActorRef): boolean;
  /** An event of machine `ref`, which may no longer be the node's machine (then it is stale). */
  emitted(event: NodeStatusEmitted, ref: AnyActorRef): void;
  /** The machine of `nodeId` failed, or its shard was replaced: the node must register again. */
  lost(nodeId: string): void;
}

function shardId(index: number): string {
  return `shard:${index.toString(16).padStart(2, '0')}`;
}

/** FNV-1a of the node id, onto a shard. */
export function shardOf(nodeId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) hash = Math.imul(hash ^ nodeId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % REGISTRY_SHARDS;
}

export class NodeMachines {
  private readonly logic: typeof nodeStatusMachine;
  private readonly shards: Array<AnyActorRef | undefined> = new Array<AnyActorRef | undefined>(REGISTRY_SHARDS).fill(undefined);
  /** Node ids with a machine, per shard: what a replaced shard has lost. */
  private readonly members: Array<Set<string>> = Array.from({ length: REGISTRY_SHARDS }, () => new Set<string>());

  constructor(
    private readonly owner: NodeMachineOwner,
    private readonly options: NodeStatusOptions,
    private readonly log: Logger,
  ) {
    // Called inside the machine's own transition, like an `actor.on` listener of its emitted events.
    this.logic = nodeStatusMachine.provide({ actions: { report: ({ self }, event) => owner.emitted(event, self) } });
  }

  /** The child spec of the `registry` supervisor and its shards. */
  supervisorSpec(clock: Pick<Clock, 'now'>): ChildSpecInput {
    // At shutdown a shard is stopped at once, its machines with it: they were quiesced first and hold
    // nothing, and stopping them one by one would cost time in the shard's size for each.
    const shards = Array.from({ length: REGISTRY_SHARDS }, (_, index) =>
      supervisorChild({ id: shardId(index), strategy: 'one_for_one', clock }, { shutdownMs: 0, attach: (ref: AnyActorRef) => this.attachShard(index, ref) }),
    );
    return supervisorChild({ id: 'registry', strategy: 'one_for_one', clock, children: shards }, { systemId: SYSTEM_IDS.registry });
  }

  /** Starts the machine of `nodeId`; it announces `registering` at once, through the owner. */
  spawn(nodeId: string, registeredAt: number): void {
    const index = shardOf(nodeId);
    const shard = this.shards[index];
    if (!shard) throw new Error('node machines used before their supervisors were attached');
    this.members[index]!.add(nodeId);
    shard.send({
      type: 'supervisor.startChild',
      spec: {
        id: `node:${nodeId}`,
        logic: this.logic,
        input: { nodeId, registeredAt, options: this.options },
        restart: 'temporary',
        shutdownMs: 1_000,
        attach: this.attachNode,
      },
    });
  }

  /**
   * Stops the machine of `nodeId`. Deferred to a microtask: the caller may be inside that machine's
   * own transition (an emitted event), which must finish first.
   */
  terminate(nodeId: string): void {
    const index = shardOf(nodeId);
    this.members[index]!.delete(nodeId);
    queueMicrotask(() => this.shards[index]?.send({ type: 'supervisor.terminateChild', id: `node:${nodeId}` }));
  }

  private readonly attachNode = (ref: AnyActorRef): undefined => {
    this.owner.attached(ref.id.slice('node:'.length), ref);
    return undefined;
  };

  /** Called with each fresh actor of a shard: a replacement starts with none of the old machines. */
  private attachShard(index: number, ref: AnyActorRef): () => void {
    const previous = this.shards[index];
    this.shards[index] = ref;
    if (previous && previous !== ref) {
      const lost = [...this.members[index]!];
      this.members[index]!.clear();
      this.log.error({ shard: index, nodes: lost.length }, 'registry shard restarted; its nodes must register again');
      for (const nodeId of lost) this.owner.lost(nodeId);
    }
    const sub = ref.on('supervisor.childExited', (event: { childId: string; exit: string }) => {
      if (event.exit !== 'error' || !event.childId.startsWith('node:')) return;
      const nodeId = event.childId.slice('node:'.length);
      this.members[index]!.delete(nodeId);
      this.log.error({ nodeId }, 'node status machine failed; the node must register again');
      this.owner.lost(nodeId);
    });
    // The old actor stays recorded until its replacement attaches: that is how the loss is seen.
    return () => sub.unsubscribe();
  }
}
