/**
 * Where `linguamesh translate` cuts a recording into utterances: at the silences the VAD found,
 * so that no utterance runs longer than `maxUtteranceMs` (a long one would overrun the job
 * timeout, and the scheduler's own `max_duration_ms` is 10 s, PROTOCOL.md §6.4). A stretch of
 * speech longer than the limit is cut at the limit. Each cut lies in the middle of a silence, so
 * every utterance keeps some silence around its speech for the node's own VAD. Pure arithmetic.
 */
import type { SpeechSegment } from '../kernel/ports/audio.port.js';

export interface UtteranceSpan {
  startMs: number;
  endMs: number;
}

/**
 * Spans covering [0, `durationMs`] between them except for silences at either end; speech
 * `segments` (sorted, relative to the start) decide where the cuts go. No segments: no spans.
 */
export function cutUtterances(segments: readonly SpeechSegment[], durationMs: number, maxUtteranceMs: number): UtteranceSpan[] {
  // Speech stretches no longer than the limit: a longer one is cut at the limit.
  const pieces: UtteranceSpan[] = [];
  for (const segment of segments) {
    for (let start = segment.startMs; start < segment.endMs; start += maxUtteranceMs) pieces.push({ startMs: start, endMs: Math.min(segment.endMs, start + maxUtteranceMs) });
  }
  // Neighbouring pieces share an utterance while it stays within the limit.
  const groups: UtteranceSpan[] = [];
  for (const piece of pieces) {
    const last = groups.at(-1);
    if (last && piece.endMs - last.startMs <= maxUtteranceMs) last.endMs = piece.endMs;
    else groups.push({ ...piece });
  }
  // Cuts in the middle of the silence between groups, within the limit; the ends keep up to half a limit of lead-in and tail.
  return groups.map((group, i) => {
    const previous = groups[i - 1];
    const next = groups[i + 1];
    const slack = Math.floor((maxUtteranceMs - (group.endMs - group.startMs)) / 2);
    const before = previous ? Math.floor((group.startMs - previous.endMs) / 2) : group.startMs;
    const after = next ? Math.ceil((next.startMs - group.endMs) / 2) : durationMs - group.endMs;
    return { startMs: Math.max(0, group.startMs - Math.min(before, slack)), endMs: Math.min(durationMs, group.endMs + Math.min(after, slack)) };
  });
}
