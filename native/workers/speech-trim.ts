/**
 * Trimming an utterance to its speech with Silero VAD (sherpa-onnx `Vad`). The detector decides
 * speech once per `acceptWaveform` call, so it is fed exactly one 32 ms window per call: bigger
 * calls blur segment edges by the call's length. The last partial window is zero-padded so the tail
 * is judged too, and `flush()` closes a segment that runs to the end.
 */
import type { Vad } from 'sherpa-onnx-node';
import type { SpeechSegment } from '../../src/kernel/ports/audio.port.js';
import type { Pcm16k } from './pcm-convert.js';
import { int16ToFloat, TARGET_RATE } from './pcm-convert.js';

/** Samples per Silero call at 16 kHz. */
export const VAD_WINDOW_SAMPLES = 512;

export interface TrimSettings {
  /** Audio kept before the first segment, in ms. */
  padBeforeMs: number;
  /** Audio kept after the last segment, in ms. */
  padAfterMs: number;
  /** Silence appended after the kept audio, in ms. */
  appendSilenceMs: number;
}

export interface TrimmedSpeech {
  pcm: Int16Array;
  speech: boolean;
  segments: SpeechSegment[];
}

const samplesOf = (ms: number) => Math.round((ms * TARGET_RATE) / 1000);
const msOf = (samples: number) => Math.round((samples * 1000) / TARGET_RATE);

function detectSegments(vad: Vad, f32: Float32Array): Array<[start: number, end: number]> {
  const segments: Array<[number, number]> = [];
  const drain = () => {
    while (!vad.isEmpty()) {
      const segment = vad.front(false);
      segments.push([segment.start, Math.min(f32.length, segment.start + segment.samples.length)]);
      vad.pop();
    }
  };
  vad.reset();
  const whole = f32.length - (f32.length % VAD_WINDOW_SAMPLES);
  for (let start = 0; start < whole; start += VAD_WINDOW_SAMPLES) {
    vad.acceptWaveform(f32.subarray(start, start + VAD_WINDOW_SAMPLES));
    drain();
  }
  if (whole < f32.length) {
    const tail = new Float32Array(VAD_WINDOW_SAMPLES);
    tail.set(f32.subarray(whole));
    vad.acceptWaveform(tail);
  }
  vad.flush();
  drain();
  vad.reset();
  return segments;
}

export function trimToSpeech(vad: Vad, pcm: Pcm16k, settings: TrimSettings): TrimmedSpeech {
  const { i16 } = pcm;
  const found = i16.length === 0 ? [] : detectSegments(vad, pcm.f32 ?? int16ToFloat(i16));
  const first = found[0];
  const last = found.at(-1);
  if (!first || !last) return { pcm: new Int16Array(0), speech: false, segments: [] };
  const from = Math.max(0, first[0] - samplesOf(settings.padBeforeMs));
  const to = Math.min(i16.length, last[1] + samplesOf(settings.padAfterMs));
  const out = new Int16Array(to - from + samplesOf(settings.appendSilenceMs));
  out.set(i16.subarray(from, to));
  return { pcm: out, speech: true, segments: found.map(([start, end]) => ({ startMs: msOf(start), endMs: msOf(end) })) };
}
