/**
 * What bench/audio.ts and bench/pipeline.ts share: the bench utterance (flite speech with 1 s of
 * silence on each side), CPU-and-wall timing, and the decode + resample + Silero VAD measurement of
 * the audio pool against the same engines called directly on this thread (the baseline).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sherpa from 'sherpa-onnx-node';
import { DEFAULT_AUDIO_POOL_OPTIONS } from '../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../src/adapters/audio-pool.adapter.js';
import type { AudioFormat } from '../src/kernel/ports/audio.port.js';
import { to16k } from '../native/workers/pcm-convert.js';
import { decodePlanA } from '../native/workers/plan-a-opus.js';
import { parseWav } from '../native/workers/riff-wav.js';
import { trimToSpeech, VAD_WINDOW_SAMPLES } from '../native/workers/speech-trim.js';
import { fmt, summarize } from './stats.js';

/** Goal of the audio workers: decode + resample + VAD at ≥ 100× real time per core. */
export const AUDIO_GOAL_XRT = 100;
const TEXT = 'where is the train station. I would like two tickets to Barcelona, and a cup of coffee with milk please.';

export interface BenchSpeech {
  /** pcm16 at 16 kHz: the speech with 1 s of silence on each side. */
  at16k: Int16Array;
  /** The same at 22 050 Hz as a WAV file (sox). */
  wav22k: Uint8Array;
  seconds: number;
}

/** flite speech at 16 kHz with 1 s of silence on each side, and the same speech at 22 050 Hz. */
export function benchSpeech(): BenchSpeech {
  const dir = mkdtempSync(join(tmpdir(), 'linguamesh-bench-audio-'));
  try {
    const raw = join(dir, 'speech.wav');
    const at22k = join(dir, 'speech-22k.wav');
    execFileSync('flite', ['-voice', 'slt', '-t', TEXT, '-o', raw]);
    execFileSync('sox', [raw, '-r', '22050', at22k, 'pad', '1', '1']);
    const pcm = parseWav(new Uint8Array(readFileSync(raw))).pcm;
    if (!('i16' in pcm) || pcm.sampleRate !== 16_000) throw new Error('flite no longer writes 16 kHz pcm16');
    const at16k = new Int16Array(pcm.i16.length + 32_000);
    at16k.set(pcm.i16, 16_000);
    return { at16k, wav22k: new Uint8Array(readFileSync(at22k)), seconds: at16k.length / 16_000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Timing {
  /** Median wall time of one run, in ms. */
  wallMs: number;
  /** Mean CPU time of one run over all threads of the process, in ms. */
  cpuMs: number;
}

/** Three warm-up runs, then `rounds` timed ones. */
export async function timed(rounds: number, run: () => Promise<unknown> | unknown): Promise<Timing> {
  for (let i = 0; i < 3; i++) await run();
  const walls: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await run();
    walls.push(performance.now() - start);
  }
  const used = process.cpuUsage(cpu);
  return { wallMs: summarize(walls).p50, cpuMs: (used.user + used.system) / 1000 / rounds };
}

/** A fresh signal per call, as each job has its own. */
export const signal = (): AbortSignal => new AbortController().signal;

export const xrt = (audioSeconds: number, t: Timing): string =>
  `${fmt((audioSeconds * 1000) / t.cpuMs, 0)}× per core  (${fmt(t.cpuMs, 1)} ms CPU; wall p50 ${fmt(t.wallMs, 1)} ms = ${fmt((audioSeconds * 1000) / t.wallMs, 0)}×)`;

export interface PrepareThroughput {
  /** `label: value` rows, baseline and pool per input format. */
  rows: Array<[string, string]>;
  /** The pool's × real time per core of the slowest input format. */
  worstPerCore: number;
  /** The Opus Plan A input (reused by callers that load every thread). */
  opus: Uint8Array;
}

/**
 * `prepare()` (decode + resample + VAD) through a pool of one thread, for Opus Plan A, pcm16 at
 * 16 kHz and a 22 050 Hz WAV, each against the same engines on this thread, in × real time per
 * core ("per core": audio time over the CPU time of the whole process, all threads).
 */
export async function measurePrepare(one: AudioPool, input: BenchSpeech, rounds: number): Promise<PrepareThroughput> {
  const { at16k, wav22k, seconds } = input;
  const opus = (await one.encode({ audio: { kind: 'pcm', samples: at16k.slice(), sampleRate: 16_000 }, format: 'opus' }, signal())).bytes;
  const pcm16 = new Uint8Array(at16k.buffer.slice(0));
  const inputs: Array<[AudioFormat, Uint8Array, string]> = [
    ['opus', opus, 'Opus Plan A'],
    ['pcm16', pcm16, 'pcm16 16 kHz'],
    ['wav', wav22k, 'WAV 22 050 Hz'],
  ];
  const speechFound = await one.prepare({ bytes: pcm16.slice(), format: 'pcm16', sampleRate: 16_000 }, signal());
  if (!speechFound.speech) throw new Error('the VAD found no speech in the bench input');

  // Baseline: the same engines on this thread, no pool, no transfer.
  const vad = new sherpa.Vad(
    {
      sileroVad: { model: DEFAULT_AUDIO_POOL_OPTIONS.vadModelPath, threshold: 0.5, minSilenceDuration: 0.25, minSpeechDuration: 0.1, windowSize: VAD_WINDOW_SAMPLES, maxSpeechDuration: 20 },
      sampleRate: 16_000,
      numThreads: 1,
    },
    30,
  );
  const trim = { padBeforeMs: 300, padAfterMs: 200, appendSilenceMs: 220 };
  const direct: Record<AudioFormat, () => unknown> = {
    opus: () => trimToSpeech(vad, { i16: decodePlanA(opus).i16 }, trim),
    pcm16: () => trimToSpeech(vad, { i16: new Int16Array(pcm16.buffer.slice(0)) }, trim),
    wav: () => trimToSpeech(vad, to16k(parseWav(wav22k).pcm), trim),
  };

  const rows: Array<[string, string]> = [['utterance', `${fmt(seconds, 2)} s of flite speech with 1 s of silence each side`]];
  const perCore: number[] = [];
  for (const [format, bytes, label] of inputs) {
    const base = await timed(rounds, direct[format]);
    const pooled = await timed(rounds, () => one.prepare({ bytes: bytes.slice(), format, sampleRate: 16_000, paddingMs: 220 }, signal()));
    perCore.push((seconds * 1000) / pooled.cpuMs);
    rows.push([`${label}: engines on this thread (baseline)`, xrt(seconds, base)]);
    rows.push([`${label}: pool prepare(), 1 thread`, xrt(seconds, pooled)]);
    rows.push([`${label}: pool CPU / baseline CPU`, fmt(pooled.cpuMs / base.cpuMs, 2)]);
  }
  const worstPerCore = Math.min(...perCore);
  rows.push(['slowest input, per core', `${fmt(worstPerCore, 0)}×  (goal ≥ ${AUDIO_GOAL_XRT}×: ${worstPerCore >= AUDIO_GOAL_XRT ? 'met' : 'NOT met'})`]);
  return { rows, worstPerCore, opus };
}
