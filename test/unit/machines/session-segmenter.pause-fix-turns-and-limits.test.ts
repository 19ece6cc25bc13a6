/**
 * Segmentation rules as pure functions (PROTOCOL.md §6.4): the finalize table (later row wins), the
 * turn of a duration cut, the playback window, and the [fix]: a chunk that arrives after a pause
 * longer than pause_ms whose timer has not fired first finalizes the buffer as a pause.
 */
import { describe, expect, it } from 'vitest';
import { appendChunk, EMPTY_SEGMENTER, finalize, pauseWanted, playbackEnded, playbackStarted } from '../../../src/machines/session-segmenter.js';
import type { SegmenterOptions, SegmenterState } from '../../../src/machines/session-segmenter.js';

const OPTIONS: SegmenterOptions = { pauseMs: 3_000, maxDurationMs: 10_000, maxBufferBytes: 1_000, paddingManualMs: 280, paddingAutoMs: 220 };
let turns = 0;
const newTurnId = () => `turn-${++turns}`;
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

function feed(state: SegmenterState, chunks: Array<{ n: number; ms: number; at: number; isFinal?: boolean; fill?: number }>) {
  const finalized = [];
  let current = state;
  for (const c of chunks) {
    const step = appendChunk(current, { bytes: bytes(c.n, c.fill), durationMs: c.ms, isFinal: c.isFinal ?? false, at: c.at }, OPTIONS, newTurnId);
    current = step.state;
    finalized.push(...step.finalized);
  }
  return { state: current, finalized };
}

describe('segmenter', () => {
  it('concatenates chunks and finalizes on is_final with is_manual_cut and padding 280', () => {
    const { state, finalized } = feed(EMPTY_SEGMENTER, [
      { n: 3, ms: 200, at: 0, fill: 1 },
      { n: 2, ms: 200, at: 200, fill: 2, isFinal: true },
    ]);
    expect(finalized).toEqual([{ reason: 'is_final', bytes: new Uint8Array([1, 1, 1, 2, 2]), durationMs: 400, flags: { isManualCut: true }, paddingMs: 280, turnId: undefined }]);
    expect(state.bytes).toBe(0);
    expect(pauseWanted(state)).toBe(false);
  });

  it('lets the later row win: max duration and is_final → manual cut; anything over max_buffer_bytes → no flags, no padding', () => {
    expect(feed(EMPTY_SEGMENTER, [{ n: 10, ms: 10_000, at: 0, isFinal: true }]).finalized[0]).toMatchObject({ reason: 'is_final', flags: { isManualCut: true }, paddingMs: 280 });
    expect(feed(EMPTY_SEGMENTER, [{ n: 1_001, ms: 10_000, at: 0, isFinal: true }]).finalized[0]).toMatchObject({ reason: 'max_length', flags: {}, paddingMs: undefined });
    expect(feed(EMPTY_SEGMENTER, [{ n: 1_000, ms: 100, at: 0 }]).finalized).toEqual([]);
  });

  it('keeps the turn of a duration cut for the next pause or manual cut, then clears it', () => {
    const first = feed(EMPTY_SEGMENTER, [{ n: 10, ms: 10_000, at: 0 }]);
    const turnId = first.finalized[0]!.turnId;
    expect(first.finalized[0]).toMatchObject({ reason: 'max_duration', flags: { isMaxDurationTriggered: true }, paddingMs: 220, turnId: expect.stringMatching(/^turn-/) });
    const second = feed(first.state, [{ n: 10, ms: 10_000, at: 1 }]);
    expect(second.finalized[0]!.turnId).toBe(turnId);
    const paused = finalize(feed(second.state, [{ n: 1, ms: 20, at: 2 }]).state, 'pause', OPTIONS, newTurnId);
    expect(paused.finalized[0]).toMatchObject({ reason: 'pause', flags: { isTimeoutTriggered: true }, paddingMs: 220, turnId });
    expect(paused.state.turnId).toBeUndefined();
  });

  it('finalizes nothing for an empty buffer: no job, the turn untouched', () => {
    const withTurn = feed(EMPTY_SEGMENTER, [{ n: 10, ms: 10_000, at: 0 }]).state;
    const step = appendChunk(withTurn, { bytes: new Uint8Array(0), durationMs: 0, isFinal: true, at: 5 }, OPTIONS, newTurnId);
    expect(step.finalized).toEqual([]);
    expect(step.state.turnId).toBe(withTurn.turnId);
  });

  it('[fix] finalizes the buffer as a pause first when a chunk comes more than pause_ms after the last one', () => {
    const { finalized, state } = feed(EMPTY_SEGMENTER, [
      { n: 2, ms: 200, at: 0, fill: 1 },
      { n: 2, ms: 200, at: 3_000, fill: 2 },
    ]);
    expect(finalized).toEqual([expect.objectContaining({ reason: 'pause', bytes: new Uint8Array([1, 1]), flags: { isTimeoutTriggered: true } })]);
    expect(state).toMatchObject({ bytes: 2, durationMs: 200, pauseFrom: 3_000 });
    // 2 999 ms later is still the same utterance.
    expect(feed(EMPTY_SEGMENTER, [{ n: 2, ms: 200, at: 0 }, { n: 2, ms: 200, at: 2_999 }]).finalized).toEqual([]);
  });

  it('does not count the pause while TTS plays; it counts again from the end of playback', () => {
    let state = feed(EMPTY_SEGMENTER, [{ n: 2, ms: 200, at: 0 }]).state;
    state = playbackStarted(state);
    expect(pauseWanted(state)).toBe(false);
    // A chunk during playback long after the last one is not a pause.
    state = feed(state, [{ n: 2, ms: 200, at: 9_000 }]).state;
    expect(state.bytes).toBe(4);
    state = playbackEnded(state, 20_000);
    expect(pauseWanted(state)).toBe(true);
    expect(feed(state, [{ n: 1, ms: 20, at: 22_999 }]).finalized).toEqual([]);
    expect(feed(state, [{ n: 1, ms: 20, at: 23_000 }]).finalized).toHaveLength(1);
  });
});
