/**
 * Shapes a recognition into the ASR response of PROTOCOL.md §9.2: segments are runs of words split
 * at pauses, each with its words, times in seconds.
 */
import { FRAMES_PER_SECOND } from './pocketsphinx-ffi.js';
import type { Recognition } from './pocketsphinx-ffi.js';

/** A pause at least this long (in frames, 100 per second) starts a new segment. */
const SEGMENT_PAUSE_FRAMES = 30;

export interface TranscriptWord {
  word: string;
  start: number;
  end: number;
  probability: number;
}

export interface TranscriptSegment {
  text: string;
  start: number;
  end: number;
  words: TranscriptWord[];
}

function seconds(frames: number): number {
  return Math.round((frames / FRAMES_PER_SECOND) * 100) / 100;
}

export function toSegments(recognition: Recognition): TranscriptSegment[] {
  const groups: Recognition['words'][] = [];
  let previousEnd = Number.NEGATIVE_INFINITY;
  for (const word of recognition.words) {
    const current = groups.at(-1);
    if (!current || word.startFrame - previousEnd > SEGMENT_PAUSE_FRAMES) groups.push([word]);
    else current.push(word);
    previousEnd = word.endFrame;
  }
  return groups.map((words) => ({
    text: words.map((w) => w.word).join(' '),
    start: seconds(words[0]?.startFrame ?? 0),
    end: seconds((words.at(-1)?.endFrame ?? 0) + 1),
    words: words.map((w) => ({ word: w.word, start: seconds(w.startFrame), end: seconds(w.endFrame + 1), probability: Math.round(w.probability * 1000) / 1000 })),
  }));
}
