/**
 * This scheduler instance's index of pool membership: pool key → member node ids, per variant,
 * kept in step with each node's `nodePools` so that a dispatcher reads members without scanning
 * every node. Its size is bounded by the nodes it holds: a node's entries go when the node goes.
 */
import type { NodePools, PoolVariant } from '../../kernel/ports/capability-store.port.js';
import { POOL_VARIANTS } from '../../kernel/ports/capability-store.port.js';
import { NO_POOLS } from './pool-membership.js';

export class PoolIndex {
  private readonly members: Record<PoolVariant, Map<string, Set<string>>> = { speech: new Map(), text: new Map() };
  private readonly byNode = new Map<string, NodePools>();

  /** Replaces the pools of `nodeId` (NO_POOLS removes it). */
  set(nodeId: string, pools: NodePools): void {
    const previous = this.byNode.get(nodeId) ?? NO_POOLS;
    for (const variant of POOL_VARIANTS) {
      const index = this.members[variant];
      const next = new Set(pools[variant]);
      for (const key of previous[variant]) {
        if (next.has(key)) continue;
        const set = index.get(key);
        set?.delete(nodeId);
        if (set?.size === 0) index.delete(key);
      }
      for (const key of next) {
        let set = index.get(key);
        if (!set) index.set(key, (set = new Set()));
        set.add(nodeId);
      }
    }
    if (pools.speech.length === 0 && pools.text.length === 0) this.byNode.delete(nodeId);
    else this.byNode.set(nodeId, pools);
  }

  remove(nodeId: string): void {
    this.set(nodeId, NO_POOLS);
  }

  /** Members of pool `key` in `variant`, sorted. */
  membersOf(variant: PoolVariant, key: string): string[] {
    return [...(this.members[variant].get(key) ?? [])].sort();
  }

  /** Whether `nodeId` is a member of pool `key` in `variant`. */
  has(variant: PoolVariant, key: string, nodeId: string): boolean {
    return this.members[variant].get(key)?.has(nodeId) ?? false;
  }

  /** Pool key → sorted members, keys sorted. */
  snapshot(variant: PoolVariant): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const key of [...this.members[variant].keys()].sort()) out[key] = this.membersOf(variant, key);
    return out;
  }

  /** Pool key → member count. */
  sizes(variant: PoolVariant): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, set] of this.members[variant]) out[key] = set.size;
    return out;
  }
}
