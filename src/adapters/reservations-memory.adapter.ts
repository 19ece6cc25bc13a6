/**
 * Job slots in this process's memory (PROTOCOL.md §5.3): the default, for one scheduler instance.
 * JavaScript runs one call at a time, so the check and the take of `tryReserve` are one step; the
 * promise only keeps the shape of a shared store.
 */
import { AbortedError } from '../kernel/errors.js';
import type { ReservationsPort, SlotKey } from '../kernel/ports/reservations.port.js';

function slotOf(key: SlotKey): string {
  return `${key.jobId}#${key.attemptId}`;
}

export function createMemoryReservations(): ReservationsPort {
  const byNode = new Map<string, Set<string>>();
  let closed = false;
  const check = (signal: AbortSignal) => {
    if (signal.aborted) throw new AbortedError('reservation call aborted', { cause: signal.reason });
  };
  return {
    async tryReserve(key, capacity, signal) {
      check(signal);
      if (closed) return false;
      const slots = byNode.get(key.nodeId) ?? new Set<string>();
      const slot = slotOf(key);
      if (slots.has(slot)) return true;
      if (slots.size >= capacity) return false;
      slots.add(slot);
      byNode.set(key.nodeId, slots);
      return true;
    },
    // A release is clean-up: it runs even after the caller's signal aborted (at shutdown).
    async release(key) {
      const slots = byNode.get(key.nodeId);
      if (!slots?.delete(slotOf(key))) return;
      if (slots.size === 0) byNode.delete(key.nodeId);
    },
    async counts(nodeIds, signal) {
      check(signal);
      const out = new Map<string, number>();
      if (nodeIds === undefined) {
        for (const [nodeId, slots] of byNode) out.set(nodeId, slots.size);
        return out;
      }
      for (const nodeId of nodeIds) {
        const size = byNode.get(nodeId)?.size ?? 0;
        if (size > 0) out.set(nodeId, size);
      }
      return out;
    },
    async close() {
      closed = true;
      byNode.clear();
    },
  };
}
