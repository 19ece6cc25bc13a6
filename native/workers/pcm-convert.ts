/**
 * Sample conversions and resampling to 16 kHz for the audio worker. The worker assumes a
 * little-endian host, as are all platforms sherpa-onnx-node ships binaries for, so pcm16 bytes are
 * read and written through Int16Array views without swapping.
 */
import sherpa from 'sherpa-onnx-node';
import type { LinearResampler } from 'sherpa-onnx-node';
import { TaskRefusal } from './task-refusal.js';

export const TARGET_RATE = 16_000;
/** Rates outside this range are refused before they reach the native resampler, in Hz. */
export const MIN_SAMPLE_RATE = 1_000;
export const MAX_SAMPLE_RATE = 384_000;

/** Mono audio at some rate: pcm16 when that is what the input was, else float in [-1, 1]. */
export type MonoPcm = { i16: Int16Array; sampleRate: number } | { f32: Float32Array; sampleRate: number };

/** 16 kHz mono: pcm16 always, float too when it was computed on the way. */
export interface Pcm16k {
  i16: Int16Array;
  f32?: Float32Array;
}

export function checkSampleRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    throw new TaskRefusal('unsupported_sample_rate', `sample rate ${rate} Hz is outside ${MIN_SAMPLE_RATE}–${MAX_SAMPLE_RATE}`, { sampleRate: rate });
  }
}

export function int16ToFloat(i16: Int16Array): Float32Array {
  const out = new Float32Array(i16.length);
  for (let i = 0; i < i16.length; i++) out[i] = i16[i]! / 32768;
  return out;
}

/** PROTOCOL.md §7.2: clamp to [-1, 1], then ×32 768 for negatives and ×32 767 for positives. */
export function floatToInt16(f32: Float32Array): Int16Array {
  const out = new Int16Array(f32.length);
  for (let i = 0; i < f32.length; i++) {
    const v = f32[i]!;
    if (v >= 1) out[i] = 32767;
    else if (v <= -1) out[i] = -32768;
    else if (v < 0) out[i] = Math.round(v * 32768);
    else out[i] = Math.round(v * 32767);
  }
  return out;
}

/** pcm16 bytes (PROTOCOL.md §7.2) as samples: a view when aligned, an odd final byte dropped. */
export function int16View(bytes: Uint8Array): Int16Array {
  const count = bytes.byteLength >> 1;
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, count);
  return new Int16Array(bytes.slice(0, count * 2).buffer);
}

// One resampler per input rate, reset before each use. Rates seen in practice are few (8 000,
// 22 050, 24 000, 44 100, 48 000); the cap keeps a stream of odd rates from growing the map.
const MAX_CACHED_RESAMPLERS = 8;
const resamplers = new Map<number, LinearResampler>();

function resamplerFrom(rate: number): LinearResampler {
  let resampler = resamplers.get(rate);
  if (resampler) {
    resamplers.delete(rate);
  } else {
    resampler = new sherpa.LinearResampler(rate, TARGET_RATE);
    if (resamplers.size >= MAX_CACHED_RESAMPLERS) resamplers.delete(resamplers.keys().next().value!);
  }
  resamplers.set(rate, resampler);
  resampler.reset();
  return resampler;
}

/**
 * Any rate → 16 kHz with sherpa-onnx's LinearResampler (a windowed-sinc filter despite its name,
 * so content above 8 kHz is filtered out rather than aliased).
 */
export function to16k(pcm: MonoPcm): Pcm16k {
  checkSampleRate(pcm.sampleRate);
  if (pcm.sampleRate === TARGET_RATE) {
    return 'i16' in pcm ? { i16: pcm.i16 } : { i16: floatToInt16(pcm.f32), f32: pcm.f32 };
  }
  const input = 'f32' in pcm ? pcm.f32 : int16ToFloat(pcm.i16);
  const f32 = input.length === 0 ? new Float32Array(0) : resamplerFrom(pcm.sampleRate).flush(input);
  return { i16: floatToInt16(f32), f32 };
}

export function durationMs(samples: number): number {
  return Math.round((samples * 1000) / TARGET_RATE);
}
