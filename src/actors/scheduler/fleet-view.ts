/**
 * This instance's view of the nodes held by the other instances of its fleet: a summary per remote
 * node (owner, registration, status, pools, capacity) and their pool index, kept in step with the
 * fleet's stream of node changes, the live instances (leases) and a periodic full resync.
 *
 * A remote node is dispatchable while its record is ready, its owner's lease is live and the store
 * is reachable. When it stops being so — its owner died, it registered again elsewhere (a new
 * registration fences the old one), it left ready or its record went away — `fleet.nodeLost` tells
 * the dispatcher, which reassigns the jobs it had sent there.
 */
import type { Bus } from '../../kernel/bus.js';
import type { Logger } from '../../kernel/logger.js';
import type { FleetInstance, FleetPort, RemoteNode } from '../../kernel/ports/fleet.port.js';
import { poolKey, normalizeLanguage } from '../../protocol/index.js';
import { PoolIndex } from './pool-index.js';
import { NO_POOLS, variantOf } from './pool-membership.js';
import type { PoolQuery } from './pool-membership.js';

export interface FleetViewDeps {
  fleet: FleetPort;
  bus: Bus;
  logger: Logger;
  /** Whether this instance holds `nodeId` itself (then its local entry is authoritative). */
  isLocal(nodeId: string): boolean;
  signal: AbortSignal;
}

export class FleetView {
  private readonly remote = new Map<string, RemoteNode>();
  private readonly pools = new PoolIndex();
  private live = new Set<string>();
  private instanceList: FleetInstance[] = [];
  private up = true;
  private readonly log: Logger;

  constructor(private readonly deps: FleetViewDeps) {
    this.log = deps.logger.child({ actor: 'fleet-view' });
  }

  /** Whether cross-instance dispatch is possible now. */
  storeUp(): boolean {
    return this.up;
  }

  instances(): FleetInstance[] {
    return this.instanceList;
  }

  remoteCount(): number {
    return this.remote.size;
  }

  /** A dispatchable remote node, or undefined. */
  node(nodeId: string): RemoteNode | undefined {
    const node = this.remote.get(nodeId);
    return node && this.dispatchable(node) ? node : undefined;
  }

  /** Remote nodes eligible for a translation job (indexed pools only), sorted. */
  eligible(query: PoolQuery): string[] {
    if (!this.up || this.remote.size === 0) return [];
    if (query.mode === 'two_way') {
      const back = new Set(this.eligible({ mode: 'one_way', src: query.langB, tgt: query.langA, pipeline: query.pipeline }));
      return this.eligible({ mode: 'one_way', src: query.langA, tgt: query.langB, pipeline: query.pipeline }).filter((id) => back.has(id));
    }
    const variant = variantOf(query.pipeline);
    const from = normalizeLanguage(query.src);
    const to = normalizeLanguage(query.tgt);
    if (variant === undefined || from === '' || to === '' || from === to) return [];
    return this.pools.membersOf(variant, poolKey(from, to)).filter((id) => this.node(id) !== undefined);
  }

  /** The store answered again (true) or stopped answering (false). */
  setStoreUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.log.warn({ up }, up ? 'shared store reachable again: resynchronizing' : 'shared store unreachable: serving local state, no cross-instance dispatch');
    this.deps.bus.publish({ type: 'fleet.storeChanged', up });
    if (!up) {
      for (const nodeId of this.remote.keys()) this.deps.bus.publish({ type: 'fleet.nodeLost', nodeId, why: 'store unreachable' });
    }
  }

  /** Reads the records of `nodeIds` again (after their change was announced). */
  async refresh(nodeIds: readonly string[]): Promise<void> {
    const records = await this.deps.fleet.nodes(nodeIds, this.deps.signal);
    // A node of an instance not seen yet (it just joined): read the instances first.
    if (records.some((n) => !this.live.has(n.owner) && n.owner !== this.deps.fleet.instanceId)) await this.refreshInstances();
    const found = new Map(records.map((n) => [n.nodeId, n]));
    for (const nodeId of nodeIds) this.apply(nodeId, found.get(nodeId));
    this.deps.bus.publish({ type: 'fleet.poolsChanged' });
  }

  /** Reads the live instances and every record again. */
  async resync(): Promise<void> {
    await this.refreshInstances();
    const all = await this.deps.fleet.allNodes(this.deps.signal);
    const seen = new Set<string>();
    for (const node of all) {
      seen.add(node.nodeId);
      this.apply(node.nodeId, node);
    }
    for (const nodeId of [...this.remote.keys()]) if (!seen.has(nodeId)) this.apply(nodeId, undefined);
    this.deps.bus.publish({ type: 'fleet.poolsChanged' });
  }

  /** Reads the live instances; the nodes of an instance whose lease ran out are lost. */
  async refreshInstances(): Promise<void> {
    this.instanceList = await this.deps.fleet.instances(this.deps.signal);
    const next = new Set(this.instanceList.map((i) => i.instanceId));
    const gone = [...this.live].filter((id) => !next.has(id));
    this.live = next;
    if (gone.length === 0) return;
    this.log.warn({ instances: gone }, 'scheduler instances lost their lease');
    for (const node of this.remote.values()) {
      if (gone.includes(node.owner)) this.deps.bus.publish({ type: 'fleet.nodeLost', nodeId: node.nodeId, why: `owner ${node.owner} lost its lease` });
    }
  }

  private dispatchable(node: RemoteNode): boolean {
    return this.up && node.status === 'ready' && this.live.has(node.owner) && node.owner !== this.deps.fleet.instanceId && !this.deps.isLocal(node.nodeId);
  }

  private apply(nodeId: string, next: RemoteNode | undefined): void {
    const mine = next !== undefined && next.owner === this.deps.fleet.instanceId;
    const previous = this.remote.get(nodeId);
    const record = next === undefined || mine ? undefined : next;
    if (previous) {
      const why =
        record === undefined ? (mine ? 'now held by this instance' : 'record gone')
        : record.registrationId !== previous.registrationId ? `registered again on ${record.owner}`
        : record.status !== 'ready' && previous.status === 'ready' ? `now ${record.status}`
        : undefined;
      if (why !== undefined) this.deps.bus.publish({ type: 'fleet.nodeLost', nodeId, why });
    }
    if (record === undefined) {
      this.remote.delete(nodeId);
      this.pools.remove(nodeId);
      return;
    }
    this.remote.set(nodeId, record);
    this.pools.set(nodeId, record.status === 'ready' ? record.pools : NO_POOLS);
  }
}
