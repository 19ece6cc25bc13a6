/**
 * The capability store in this process's memory: the default, for a single scheduler instance.
 * Records expire `ttlMs` after their last write, like the Redis adapter's keys, so a record its
 * writer stopped refreshing does not stay forever; expiry is checked lazily on the injected clock.
 * The store keeps its own copy of each record, patches it in place, and hands out copies.
 */
import type { Clock } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { AbortedError } from '../kernel/errors.js';
import type { CapabilityStorePort, PoolVariant, StoredNode, StoredNodePatch } from '../kernel/ports/capability-store.port.js';

export interface MemoryCapabilityStoreOptions {
  /** Expiry of a record after its last write, in ms. */
  ttlMs: number;
  /** Clock of the expiry. Default the system clock. */
  clock?: Clock;
}

interface Slot {
  node: StoredNode;
  expiresAt: number;
}

/**
 * The class of the store's own copies. A copy made by spreading into a literal (`{ ...node }`) can
 * get a hidden class of its own, hundreds of bytes per record, once V8's transitions from the plain
 * object's class are exhausted (they are, in a process that keys objects by 10 000 node ids);
 * instances of one class share theirs.
 */
class RecordCopy {}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function createMemoryCapabilityStore(options: MemoryCapabilityStoreOptions): CapabilityStorePort {
  const clock = options.clock ?? systemClock;
  const slots = new Map<string, Slot>();

  const live = (nodeId: string): Slot | undefined => {
    const slot = slots.get(nodeId);
    if (slot && slot.expiresAt <= clock.now()) {
      slots.delete(nodeId);
      return undefined;
    }
    return slot;
  };
  const all = (): StoredNode[] => {
    const now = clock.now();
    const nodes: StoredNode[] = [];
    for (const [id, slot] of slots) {
      if (slot.expiresAt <= now) slots.delete(id);
      else nodes.push({ ...slot.node });
    }
    return nodes.sort((a, b) => compareIds(a.nodeId, b.nodeId));
  };
  const guard = (signal: AbortSignal) => {
    if (signal.aborted) throw new AbortedError('capability store call aborted');
  };

  return {
    async put(node, signal) {
      guard(signal);
      // The store's own copy, patched in place by `update`: no new record per heartbeat.
      slots.set(node.nodeId, { node: Object.assign(new RecordCopy(), node), expiresAt: clock.now() + options.ttlMs });
    },
    async update(nodeId: string, registrationId: string, patch: StoredNodePatch, signal) {
      guard(signal);
      const slot = live(nodeId);
      if (!slot || slot.node.registrationId !== registrationId) return false;
      Object.assign(slot.node, patch);
      slot.expiresAt = clock.now() + options.ttlMs;
      return true;
    },
    async get(nodeId, signal) {
      guard(signal);
      const slot = live(nodeId);
      return slot ? { ...slot.node } : undefined;
    },
    async list(signal) {
      guard(signal);
      return all();
    },
    async remove(nodeId, registrationId, signal) {
      guard(signal);
      const slot = live(nodeId);
      if (!slot || slot.node.registrationId !== registrationId) return false;
      slots.delete(nodeId);
      return true;
    },
    async removeOwnedBy(owner, signal) {
      guard(signal);
      let removed = 0;
      for (const [id, slot] of slots) {
        if (slot.node.owner !== owner) continue;
        slots.delete(id);
        removed++;
      }
      return removed;
    },
    async pools(variant: PoolVariant, signal) {
      guard(signal);
      const pools = new Map<string, string[]>();
      for (const node of all()) {
        for (const key of node.pools[variant]) {
          let members = pools.get(key);
          if (!members) pools.set(key, (members = []));
          members.push(node.nodeId);
        }
      }
      return Object.fromEntries([...pools.entries()].sort(([a], [b]) => compareIds(a, b)));
    },
    async close() {
      slots.clear();
    },
  };
}
