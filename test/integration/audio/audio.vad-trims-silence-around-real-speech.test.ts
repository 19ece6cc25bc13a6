import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import { systemClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { concatPcm, energy, energyBounds, fliteSpeech, pcmBytes, wavBytes } from '../../support/audio-fixtures.js';

const PAD_BEFORE_MS = 300;
const PAD_AFTER_MS = 200;
const SILENCE = new Int16Array(32_000); // 2 s at 16 kHz

let pool: AudioPool;
let dir: string;
let speech: Int16Array;
let padded: Int16Array;
/** Where the speech is in `padded`, in ms, from its energy. */
let speechStartMs: number;
let speechEndMs: number;
const signal = new AbortController().signal;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linguamesh-vad-'));
  [pool, speech] = await Promise.all([
    startAudioPool({ maxThreads: 1, speechPadBeforeMs: PAD_BEFORE_MS, speechPadAfterMs: PAD_AFTER_MS }, { logger: silentLogger(), clock: systemClock }),
    fliteSpeech('where is the train station', dir),
  ]);
  padded = concatPcm(SILENCE, speech, SILENCE);
  const bounds = energyBounds(padded);
  speechStartMs = bounds.start / 16;
  speechEndMs = bounds.end / 16;
});

afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asserts that `out` is the speech of `padded` with at most the configured padding around it. */
function expectTrimmedToSpeech(out: { pcm: Int16Array; speech: boolean; segments: Array<{ startMs: number; endMs: number }>; durationMs: number; inputDurationMs: number }, paddingMs: number): void {
  expect(out.speech).toBe(true);
  expect(out.inputDurationMs).toBe(Math.round(padded.length / 16));
  const first = out.segments[0]!;
  const last = out.segments.at(-1)!;
  // The VAD finds the speech where its energy is, give or take a few 32 ms windows.
  expect(first.startMs).toBeGreaterThan(speechStartMs - 150);
  expect(first.startMs).toBeLessThan(speechStartMs + 100);
  expect(last.endMs).toBeGreaterThan(speechEndMs - 100);
  expect(last.endMs).toBeLessThan(speechEndMs + 400);
  // Kept: the speech plus at most the configured padding on each side, then `paddingMs` of silence.
  const speechMs = speechEndMs - speechStartMs;
  expect(out.durationMs).toBeGreaterThanOrEqual(speechMs + paddingMs);
  expect(out.durationMs).toBeLessThanOrEqual(speechMs + 150 + PAD_BEFORE_MS + 400 + PAD_AFTER_MS + paddingMs);
  expect(out.durationMs).toBe(Math.round(out.pcm.length / 16));
  // Nothing of the speech was cut: all its energy is still there, and the appended tail is silent.
  expect(energy(out.pcm)).toBeGreaterThanOrEqual(0.999 * energy(speech));
  const tail = out.pcm.subarray(out.pcm.length - paddingMs * 16);
  expect(tail.every((v) => v === 0)).toBe(true);
}

describe('Silero VAD on real speech with 2 s of silence on each side', () => {
  it('trims pcm16 input to the speech ± padding and appends padding_ms of silence', async () => {
    const prepared = await pool.prepare({ bytes: pcmBytes(padded), format: 'pcm16', sampleRate: 16_000, paddingMs: 220 }, signal);
    expectTrimmedToSpeech(prepared, 220);
    expect(prepared.inputDurationMs - prepared.durationMs).toBeGreaterThan(3_000);
  });

  it('gives the same answer from detectSpeech() on decoded audio', async () => {
    const decoded = await pool.decode({ bytes: wavBytes({ sampleRate: 16_000, samples: padded }), format: 'wav', sampleRate: 0 }, signal);
    const detected = await pool.detectSpeech({ pcm: decoded.pcm, paddingMs: 280 }, signal);
    expectTrimmedToSpeech(detected, 280);
  });

  it('finds the speech in Opus input as well', async () => {
    const opus = await pool.encode({ audio: { kind: 'pcm', samples: padded.slice(), sampleRate: 16_000 }, format: 'opus' }, signal);
    const prepared = await pool.prepare({ bytes: opus.bytes, format: 'opus', sampleRate: 16_000 }, signal);
    expect(prepared.speech).toBe(true);
    expect(prepared.segments[0]!.startMs).toBeGreaterThan(speechStartMs - 150);
    expect(prepared.segments.at(-1)!.endMs).toBeLessThan(speechEndMs + 400);
  });

  it('keeps everything when speech runs to both edges of the audio', async () => {
    const bounds = energyBounds(speech);
    const tight = speech.slice(bounds.start, bounds.end);
    const prepared = await pool.prepare({ bytes: pcmBytes(tight), format: 'pcm16', sampleRate: 16_000 }, signal);
    expect(prepared.speech).toBe(true);
    expect(prepared.pcm.length).toBe(tight.length);
  });
});

describe('audio without speech', () => {
  it('reports no speech for pure silence, with empty audio', async () => {
    const prepared = await pool.prepare({ bytes: new Uint8Array(48_000 * 2), format: 'pcm16', sampleRate: 16_000, paddingMs: 220 }, signal);
    expect(prepared).toMatchObject({ speech: false, segments: [], durationMs: 0, inputDurationMs: 3_000 });
    expect(prepared.pcm.length).toBe(0);
  });

  it('reports no speech for faint noise', async () => {
    const noise = new Int16Array(48_000);
    for (let i = 0; i < noise.length; i++) noise[i] = Math.round((Math.random() - 0.5) * 400);
    const prepared = await pool.prepare({ bytes: pcmBytes(noise), format: 'pcm16', sampleRate: 16_000 }, signal);
    expect(prepared.speech).toBe(false);
  });

  it('reports no speech for empty input', async () => {
    const prepared = await pool.prepare({ bytes: new Uint8Array(0), format: 'opus', sampleRate: 16_000 }, signal);
    expect(prepared).toMatchObject({ speech: false, durationMs: 0, inputDurationMs: 0 });
  });
});
