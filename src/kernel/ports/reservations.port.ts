/**
 * Job slots on nodes (PROTOCOL.md §5.3): the dispatcher's cross-node state. A node has
 * `max_concurrent_jobs` slots; a **reservation** holds one for a job's current attempt from its
 * dispatch until the attempt ends (result, failure, cancellation, reassignment, node loss).
 *
 * The one atomic step is `tryReserve`: a slot is taken only if the node holds fewer than `capacity`
 * reservations, so two jobs dispatched at the same moment — by this scheduler instance or another
 * — never take the same last slot. The dispatcher orders its candidates from `counts` and tries
 * them in turn. In memory by default; a shared store (Redis, with the check-and-take as one Lua
 * script) lets several scheduler instances dispatch to one fleet.
 */

/** One attempt of one job on one node. */
export interface SlotKey {
  nodeId: string;
  jobId: string;
  attemptId: number;
}

export interface ReservationsPort {
  /** Takes a slot of `key.nodeId` when it holds fewer than `capacity` reservations; true when taken. Idempotent per key. */
  tryReserve(key: SlotKey, capacity: number, signal: AbortSignal): Promise<boolean>;
  /** Frees the slot of `key`; nothing when it holds none. */
  release(key: SlotKey, signal: AbortSignal): Promise<void>;
  /** Reservations per node, for the nodes asked (absent = 0), or for every node holding one. */
  counts(nodeIds: readonly string[] | undefined, signal: AbortSignal): Promise<Map<string, number>>;
  close(): Promise<void>;
}
