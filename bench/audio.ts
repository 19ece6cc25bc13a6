/**
 * Audio pool benchmark (issue "Jobs end to end", node audio workers). Real speech from flite, with
 * 1 s of silence on each side, goes through the pool as a job's utterance would:
 *  (1) decode + resample + Silero VAD (`prepare`) in × real time per core, for Opus Plan A, pcm16
 *      at 16 kHz and a 22 050 Hz WAV (goal ≥ 100× per core), against the same engines called
 *      directly on this thread (the baseline: what the pool's round trip costs);
 *  (2) one `prepare` round trip against `decode` then `detectSpeech` (two round trips), and the
 *      cost of a round trip itself;
 *  (3) every thread busy: aggregate × real time;
 *  (4) encoding TTS output (22 050 Hz WAV) to Opus Plan A, pcm16 and WAV, in × real time per core.
 * "Per core" is audio time over the CPU time the whole process spent (`process.cpuUsage`, all
 * threads), so other load on the machine does not count against it; the median wall time is
 * printed beside it.
 *
 *   npx tsx bench/audio.ts [--rounds=20]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sherpa from 'sherpa-onnx-node';
import { DEFAULT_AUDIO_POOL_OPTIONS, startAudioPool } from '../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../src/adapters/audio-pool.adapter.js';
import { systemClock } from '../src/kernel/clock.js';
import { silentLogger } from '../src/kernel/logger.js';
import type { AudioFormat } from '../src/kernel/ports/audio.port.js';
import { to16k } from '../native/workers/pcm-convert.js';
import { decodePlanA } from '../native/workers/plan-a-opus.js';
import { parseWav } from '../native/workers/riff-wav.js';
import { trimToSpeech, VAD_WINDOW_SAMPLES } from '../native/workers/speech-trim.js';
import { argNumber, fmt, report, summarize } from './stats.js';

const ROUNDS = argNumber('rounds', 20);
const GOAL = 100;
const TEXT = 'where is the train station. I would like two tickets to Barcelona, and a cup of coffee with milk please.';

/** flite speech at 16 kHz with 1 s of silence on each side, and the same speech at 22 050 Hz (sox). */
function speech(dir: string): { at16k: Int16Array; wav22k: Uint8Array; seconds: number } {
  const raw = join(dir, 'speech.wav');
  const at22k = join(dir, 'speech-22k.wav');
  execFileSync('flite', ['-voice', 'slt', '-t', TEXT, '-o', raw]);
  execFileSync('sox', [raw, '-r', '22050', at22k, 'pad', '1', '1']);
  const pcm = parseWav(new Uint8Array(readFileSync(raw))).pcm;
  if (!('i16' in pcm) || pcm.sampleRate !== 16_000) throw new Error('flite no longer writes 16 kHz pcm16');
  const at16k = new Int16Array(pcm.i16.length + 32_000);
  at16k.set(pcm.i16, 16_000);
  return { at16k, wav22k: new Uint8Array(readFileSync(at22k)), seconds: at16k.length / 16_000 };
}

interface Timing {
  /** Median wall time of one run, in ms. */
  wallMs: number;
  /** Mean CPU time of one run over all threads of the process, in ms. */
  cpuMs: number;
}

async function timed(rounds: number, run: () => Promise<unknown> | unknown): Promise<Timing> {
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
const signal = () => new AbortController().signal;

const xrt = (audioSeconds: number, t: Timing) =>
  `${fmt((audioSeconds * 1000) / t.cpuMs, 0)}× per core  (${fmt(t.cpuMs, 1)} ms CPU; wall p50 ${fmt(t.wallMs, 1)} ms = ${fmt((audioSeconds * 1000) / t.wallMs, 0)}×)`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'linguamesh-bench-audio-'));
  const { at16k, wav22k, seconds } = speech(dir);
  rmSync(dir, { recursive: true, force: true });
  const deps = { logger: silentLogger(), clock: systemClock };
  const one: AudioPool = await startAudioPool({ maxThreads: 1 }, deps);
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
    const base = await timed(ROUNDS, direct[format]);
    const pooled = await timed(ROUNDS, () => one.prepare({ bytes: bytes.slice(), format, sampleRate: 16_000, paddingMs: 220 }, signal()));
    perCore.push((seconds * 1000) / pooled.cpuMs);
    rows.push([`${label}: engines on this thread (baseline)`, xrt(seconds, base)]);
    rows.push([`${label}: pool prepare(), 1 thread`, xrt(seconds, pooled)]);
    rows.push([`${label}: pool CPU / baseline CPU`, fmt(pooled.cpuMs / base.cpuMs, 2)]);
  }
  const worst = Math.min(...perCore);
  rows.push(['slowest input, per core', `${fmt(worst, 0)}×  (goal ≥ ${GOAL}×: ${worst >= GOAL ? 'met' : 'NOT met'})`]);
  report('decode + resample + VAD, × real time per core', rows);

  const oneTrip = await timed(ROUNDS, () => one.prepare({ bytes: pcm16.slice(), format: 'pcm16', sampleRate: 16_000 }, signal()));
  const twoTrips = await timed(ROUNDS, async () => {
    const decoded = await one.decode({ bytes: pcm16.slice(), format: 'pcm16', sampleRate: 16_000 }, signal());
    return one.detectSpeech({ pcm: decoded.pcm }, signal());
  });
  const empty = await timed(ROUNDS * 10, () => one.decode({ bytes: new Uint8Array(0), format: 'pcm16', sampleRate: 16_000 }, signal()));
  report('one round trip or two (pcm16 input)', [
    ['a round trip with no audio (decode of 0 bytes)', `${fmt(empty.wallMs, 3)} ms wall p50, ${fmt(empty.cpuMs, 3)} ms CPU`],
    ['prepare()', `${fmt(oneTrip.wallMs, 2)} ms wall p50, ${fmt(oneTrip.cpuMs, 2)} ms CPU`],
    ['decode() then detectSpeech()', `${fmt(twoTrips.wallMs, 2)} ms wall p50, ${fmt(twoTrips.cpuMs, 2)} ms CPU`],
  ]);

  const encodeRows: Array<[string, string]> = [['TTS input', `${fmt(seconds, 2)} s WAV at 22 050 Hz`]];
  for (const format of ['opus', 'pcm16', 'wav'] as const) {
    const t = await timed(ROUNDS, () => one.encode({ audio: { kind: 'wav', bytes: wav22k.slice() }, format }, signal()));
    encodeRows.push([`→ ${format} at 16 kHz, 1 thread`, xrt(seconds, t)]);
  }
  report('encode TTS output, × real time per core', encodeRows);
  await one.close();

  const threads = availableParallelism();
  const all = await startAudioPool({ maxThreads: threads }, deps);
  const batch = threads * 8;
  const run = () => Promise.all(Array.from({ length: batch }, () => all.prepare({ bytes: opus.slice(), format: 'opus', sampleRate: 16_000 }, signal())));
  const busy = await timed(Math.max(2, ROUNDS / 5), run);
  report(`every thread busy (${threads} threads, ${batch} Opus utterances at once)`, [
    ['aggregate, wall p50', `${fmt((batch * seconds * 1000) / busy.wallMs, 0)}× real time`],
    ['per core', `${fmt((batch * seconds * 1000) / busy.cpuMs, 0)}× real time`],
  ]);
  await all.close();
}

await main();
