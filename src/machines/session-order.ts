/**
 * The two cursors of a session (PROTOCOL.md §5.6, §6.5), as pure functions over values:
 * - the **result cursor**: results go to the client in `utterance_index` order; a result above an
 *   unresolved index is held; held results past `max_pending_results` evict the gap below them;
 * - the **dispatch cursor**: whole `utterance`s are dispatched in index order from 0; one above the
 *   cursor waits, and a gap that is never filled is skipped (its indices declared missing).
 * Both start at 0 and live as long as the session: they are never reset when their queues drain
 * [fix §5.6]. The session machine owns the grace timers; these functions say what moves.
 */
import type { JobError, JobResult } from '../protocol/node-jobs.schema.js';

/** `missing_result.reason` values the scheduler produces (§6.8). */
export type MissingReason = 'silence_detected' | 'gap_timeout' | 'pending_overflow_evict';

/** How an utterance index was resolved (§5.6 "resolved"). */
export type UtteranceOutcome =
  /** A deliverable result: `translation_result`. */
  | { kind: 'result'; jobId: string; result: JobResult }
  /** A success with nothing in it and no reason: `missing_result silence_detected`, in order. */
  | { kind: 'silence'; jobId: string }
  /** `ASR_EMPTY` / `NO_TEXT_ASSIGNED`: resolves the index, sends nothing. */
  | { kind: 'empty'; jobId: string }
  /** The job failed: `error {code, message, details}`. */
  | { kind: 'failed'; jobId: string; error: JobError }
  /** Declared missing: `missing_result` with the reason. */
  | { kind: 'missing'; reason: MissingReason };

export interface HeldOutcome {
  outcome: UtteranceOutcome;
  /** When the utterance was finalized (end-to-end latency), in ms since the epoch. */
  finalizedAt?: number;
}

export interface Released extends HeldOutcome {
  index: number;
}

export interface ResultOrder {
  /** The lowest unresolved index. */
  next: number;
  /** Resolved indices above `next`, waiting for it. */
  held: ReadonlyMap<number, HeldOutcome>;
}

export const EMPTY_RESULT_ORDER: ResultOrder = Object.freeze({ next: 0, held: new Map<number, HeldOutcome>() });

export interface OrderStep {
  order: ResultOrder;
  /** What goes to the client now, in order. */
  released: Released[];
  /** False when the index had been resolved already (declared missing, or a repeat): dropped. */
  accepted: boolean;
}

function lowestKey(map: ReadonlyMap<number, unknown>): number | undefined {
  let lowest: number | undefined;
  for (const key of map.keys()) if (lowest === undefined || key < lowest) lowest = key;
  return lowest;
}

/** Releases `next` and every held index right after it. */
function advance(next: number, held: Map<number, HeldOutcome>, released: Released[]): number {
  let cursor = next;
  for (let entry = held.get(cursor); entry !== undefined; entry = held.get(cursor)) {
    released.push({ index: cursor, ...entry });
    held.delete(cursor);
    cursor += 1;
  }
  return cursor;
}

/** Declares missing every unresolved index below the lowest held one, then advances (§5.6). */
export function declareGapMissing(order: ResultOrder, reason: MissingReason): { order: ResultOrder; released: Released[] } {
  const lowest = lowestKey(order.held);
  if (lowest === undefined) return { order, released: [] };
  const released: Released[] = [];
  for (let index = order.next; index < lowest; index += 1) released.push({ index, outcome: { kind: 'missing', reason } });
  const held = new Map(order.held);
  const next = advance(lowest, held, released);
  return { order: { next, held }, released };
}

/** One index resolved: sent at once when it is `next`, held when above, dropped when already resolved. */
export function resolveIndex(order: ResultOrder, index: number, entry: HeldOutcome, maxPendingResults: number): OrderStep {
  if (index < order.next || order.held.has(index)) return { order, released: [], accepted: false };
  const held = new Map(order.held);
  const released: Released[] = [];
  if (index === order.next) {
    const next = advance(index + 1, held, released);
    return { order: { next, held }, released: [{ index, ...entry }, ...released], accepted: true };
  }
  held.set(index, entry);
  const step: ResultOrder = { next: order.next, held };
  if (held.size <= maxPendingResults) return { order: step, released, accepted: true };
  const evicted = declareGapMissing(step, 'pending_overflow_evict');
  return { order: evicted.order, released: evicted.released, accepted: true };
}

export interface DispatchCursor<T> {
  /** The next index to dispatch. */
  next: number;
  /** Utterances above `next`, by index. */
  waiting: ReadonlyMap<number, T>;
}

export interface CursorStep<T> {
  cursor: DispatchCursor<T>;
  /** What to dispatch now, in index order. */
  dispatch: Array<{ index: number; item: T }>;
  /** Indices passed over without a job (declared missing by the caller). */
  skipped: number[];
}

export function emptyCursor<T>(): DispatchCursor<T> {
  return { next: 0, waiting: new Map<number, T>() };
}

function flush<T>(next: number, waiting: Map<number, T>, dispatch: Array<{ index: number; item: T }>): number {
  let cursor = next;
  for (let item = waiting.get(cursor); item !== undefined; item = waiting.get(cursor)) {
    dispatch.push({ index: cursor, item });
    waiting.delete(cursor);
    cursor += 1;
  }
  return cursor;
}

/** Takes the cursor's index for a job of the session's own (a segmented utterance), then the waiting ones after it. */
export function takeNext<T>(cursor: DispatchCursor<T>): { index: number; step: CursorStep<T> } {
  const index = cursor.next;
  if (cursor.waiting.size === 0) return { index, step: { cursor: { next: index + 1, waiting: cursor.waiting }, dispatch: [], skipped: [] } };
  const waiting = new Map(cursor.waiting);
  const dispatch: Array<{ index: number; item: T }> = [];
  const next = flush(index + 1, waiting, dispatch);
  return { index, step: { cursor: { next, waiting }, dispatch, skipped: [] } };
}

/**
 * An `utterance` with its index (§6.5): dispatched when it is the cursor's, waiting when above,
 * ignored (undefined) when its index was already dispatched or skipped, or is already waiting.
 */
export function offer<T>(cursor: DispatchCursor<T>, index: number, item: T, maxWaiting: number): CursorStep<T> | undefined {
  if (index < cursor.next || cursor.waiting.has(index)) return undefined;
  const waiting = new Map(cursor.waiting);
  waiting.set(index, item);
  const dispatch: Array<{ index: number; item: T }> = [];
  if (index === cursor.next) {
    const next = flush(index, waiting, dispatch);
    return { cursor: { next, waiting }, dispatch, skipped: [] };
  }
  const step: DispatchCursor<T> = { next: cursor.next, waiting };
  return waiting.size > maxWaiting ? skipGap(step) : { cursor: step, dispatch, skipped: [] };
}

/** The gap below the lowest waiting utterance is given up: its indices are skipped, the rest dispatched. */
export function skipGap<T>(cursor: DispatchCursor<T>): CursorStep<T> {
  const lowest = lowestKey(cursor.waiting);
  if (lowest === undefined) return { cursor, dispatch: [], skipped: [] };
  const skipped: number[] = [];
  for (let index = cursor.next; index < lowest; index += 1) skipped.push(index);
  const waiting = new Map(cursor.waiting);
  const dispatch: Array<{ index: number; item: T }> = [];
  const next = flush(lowest, waiting, dispatch);
  return { cursor: { next, waiting }, dispatch, skipped };
}
