/**
 * Node selection (PROTOCOL.md §5.3 [fix]): which of a job's candidates to try first. A node is
 * full when its reservations or its last reported `running_jobs` reach `max_concurrent_jobs`;
 * `load` = max(reservations, running_jobs) / max_concurrent_jobs. The session's previous node
 * comes first when it is a candidate; the others follow by lowest load, then the node that
 * received a job least recently, then the lowest `node_id` in byte order.
 *
 * Ordering only: the slot itself is taken by the reservations store, atomically, trying the
 * candidates in this order (a node that filled up meanwhile refuses and the next is tried).
 */

export interface SelectionCandidate {
  nodeId: string;
  maxConcurrentJobs: number;
  /** Reservations the node holds now. */
  reservations: number;
  /** `resource_usage.running_jobs` of its last accepted heartbeat (0 before any). */
  runningJobs: number;
  /** When this scheduler last dispatched to it, in ms since the epoch (undefined: never). */
  lastAssignedAt: number | undefined;
}

export function isFull(c: SelectionCandidate): boolean {
  return c.reservations >= c.maxConcurrentJobs || c.runningJobs >= c.maxConcurrentJobs;
}

export function loadOf(c: SelectionCandidate): number {
  return Math.max(c.reservations, c.runningJobs) / Math.max(1, c.maxConcurrentJobs);
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The candidates that are not full, in the order to try them. */
export function orderCandidates(candidates: readonly SelectionCandidate[], previousNodeId: string | undefined): SelectionCandidate[] {
  const open = candidates.filter((c) => !isFull(c));
  open.sort((a, b) => {
    if (a.nodeId === previousNodeId) return -1;
    if (b.nodeId === previousNodeId) return 1;
    const load = loadOf(a) - loadOf(b);
    if (load !== 0) return load;
    const at = (a.lastAssignedAt ?? Number.NEGATIVE_INFINITY) - (b.lastAssignedAt ?? Number.NEGATIVE_INFINITY);
    if (at !== 0 && !Number.isNaN(at)) return at;
    return byteOrder(a.nodeId, b.nodeId);
  });
  return open;
}
