/** Where `linguamesh translate` cuts a recording: at pauses, within the utterance limit. */
import { describe, expect, it } from 'vitest';
import { cutUtterances } from '../../../src/cli/utterance-cuts.js';

const seg = (startMs: number, endMs: number) => ({ startMs, endMs });

describe('cutUtterances', () => {
  it('no speech → no utterance', () => {
    expect(cutUtterances([], 5_000, 10_000)).toEqual([]);
  });

  it('speech that fits the limit → one utterance with the silence around it, up to the limit', () => {
    expect(cutUtterances([seg(300, 1_200), seg(1_500, 2_400)], 3_000, 10_000)).toEqual([seg(0, 3_000)]);
    // Lead-in and tail are bounded by the limit: half of what the speech leaves on each side.
    expect(cutUtterances([seg(8_000, 9_000)], 20_000, 4_000)).toEqual([seg(6_500, 10_500)]);
  });

  it('speech longer than the limit → cut in the middle of the pause between groups, no gap and no overlap', () => {
    const spans = cutUtterances([seg(0, 4_000), seg(5_000, 9_000), seg(10_000, 14_000)], 15_000, 10_000);
    expect(spans).toEqual([seg(0, 9_500), seg(9_500, 15_000)]);
    for (const span of spans) expect(span.endMs - span.startMs).toBeLessThanOrEqual(10_000);
  });

  it('one stretch of speech longer than the limit → cut at the limit', () => {
    const spans = cutUtterances([seg(0, 25_000)], 25_000, 10_000);
    expect(spans).toEqual([seg(0, 10_000), seg(10_000, 20_000), seg(20_000, 25_000)]);
  });
});
