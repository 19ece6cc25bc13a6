/**
 * The result cursor and the dispatch cursor (PROTOCOL.md §5.6, §6.5) as pure functions: in-order
 * release, holding, the gap declared missing, overflow eviction, and a cursor that never resets.
 */
import { describe, expect, it } from 'vitest';
import { declareGapMissing, EMPTY_RESULT_ORDER, emptyCursor, offer, resolveIndex, skipGap, takeNext } from '../../../src/machines/session-order.js';
import type { ResultOrder, UtteranceOutcome } from '../../../src/machines/session-order.js';

const silent = (jobId: string): UtteranceOutcome => ({ kind: 'empty', jobId });
const ok = (jobId: string): UtteranceOutcome => ({ kind: 'silence', jobId });

function resolveAll(order: ResultOrder, indices: number[], max = 200) {
  const released: number[] = [];
  let current = order;
  for (const index of indices) {
    const step = resolveIndex(current, index, { outcome: ok(`j${index}`) }, max);
    current = step.order;
    released.push(...step.released.map((r) => r.index));
  }
  return { order: current, released };
}

describe('result cursor', () => {
  it('releases in index order, holding what comes early', () => {
    const { order, released } = resolveAll(EMPTY_RESULT_ORDER, [2, 1, 0, 3]);
    expect(released).toEqual([0, 1, 2, 3]);
    expect(order).toEqual({ next: 4, held: new Map() });
  });

  it('drops a repeat and an index below the cursor', () => {
    const { order } = resolveAll(EMPTY_RESULT_ORDER, [0, 2]);
    expect(resolveIndex(order, 0, { outcome: ok('again') }, 200)).toMatchObject({ accepted: false, released: [] });
    expect(resolveIndex(order, 2, { outcome: ok('again') }, 200)).toMatchObject({ accepted: false, released: [] });
  });

  it('resolves an empty outcome like any other (it is only not sent)', () => {
    const step = resolveIndex(EMPTY_RESULT_ORDER, 0, { outcome: silent('j0') }, 200);
    expect(step.released).toEqual([{ index: 0, outcome: silent('j0') }]);
    expect(step.order.next).toBe(1);
  });

  it('declares every unresolved index below the lowest held one missing, then releases the held', () => {
    const { order } = resolveAll(EMPTY_RESULT_ORDER, [0, 3, 5]);
    const declared = declareGapMissing(order, 'gap_timeout');
    expect(declared.released.map((r) => [r.index, r.outcome.kind])).toEqual([
      [1, 'missing'],
      [2, 'missing'],
      [3, 'silence'],
    ]);
    expect(declared.order.next).toBe(4);
    expect([...declared.order.held.keys()]).toEqual([5]);
  });

  it('evicts the gap at once past max_pending_results', () => {
    const { released, order } = resolveAll(EMPTY_RESULT_ORDER, [1, 2, 3], 2);
    expect(released).toEqual([0, 1, 2, 3]);
    expect(order.next).toBe(4);
  });
});

describe('dispatch cursor', () => {
  it('dispatches in order, holds above, ignores below or repeated, and keeps counting after it drains', () => {
    let cursor = emptyCursor<string>();
    const first = offer(cursor, 0, 'a', 10)!;
    expect(first.dispatch).toEqual([{ index: 0, item: 'a' }]);
    cursor = first.cursor;
    const held = offer(cursor, 2, 'c', 10)!;
    expect(held.dispatch).toEqual([]);
    cursor = held.cursor;
    expect(offer(cursor, 2, 'again', 10)).toBeUndefined();
    expect(offer(cursor, 0, 'again', 10)).toBeUndefined();
    const filled = offer(cursor, 1, 'b', 10)!;
    expect(filled.dispatch.map((d) => d.index)).toEqual([1, 2]);
    expect(filled.cursor).toEqual({ next: 3, waiting: new Map() });
    expect(takeNext(filled.cursor).index).toBe(3);
  });

  it('skips a gap: the indices below the lowest waiting one are passed over', () => {
    const cursor = offer(offer(emptyCursor<string>(), 3, 'd', 10)!.cursor, 5, 'f', 10)!.cursor;
    const step = skipGap(cursor);
    expect(step.skipped).toEqual([0, 1, 2]);
    expect(step.dispatch.map((d) => d.index)).toEqual([3]);
    expect(step.cursor.next).toBe(4);
    expect(skipGap(step.cursor).skipped).toEqual([4]);
  });

  it('gives a segmented utterance the cursor\'s index and flushes the utterances waiting right after it', () => {
    const cursor = offer(emptyCursor<string>(), 1, 'b', 10)!.cursor;
    const { index, step } = takeNext(cursor);
    expect(index).toBe(0);
    expect(step.dispatch).toEqual([{ index: 1, item: 'b' }]);
    expect(step.cursor.next).toBe(2);
  });
});
