/**
 * Where a node keeps the `node_id` the scheduler assigned, so that it re-sends the same id after a
 * reconnect or a restart (PROTOCOL.md §3.1 steps 2–3).
 */
export interface NodeIdentityStore {
  /** The persisted id, or undefined when there is none (first start, or an unreadable file). */
  load(signal: AbortSignal): Promise<string | undefined>;
  /** Persists the id atomically: a reader sees the old id or the new one, never a torn file. */
  save(nodeId: string, signal: AbortSignal): Promise<void>;
}
