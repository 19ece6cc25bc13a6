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
import { availableParallelism } from 'node:os';
import { startAudioPool } from '../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../src/adapters/audio-pool.adapter.js';
import { systemClock } from '../src/kernel/clock.js';
import { silentLogger } from '../src/kernel/logger.js';
import { benchSpeech, measurePrepare, signal, timed, xrt } from './audio-throughput.js';
import { argNumber, fmt, report } from './stats.js';

const ROUNDS = argNumber('rounds', 20);

async function main(): Promise<void> {
  const speech = benchSpeech();
  const { wav22k, seconds } = speech;
  const deps = { logger: silentLogger(), clock: systemClock };
  const one: AudioPool = await startAudioPool({ maxThreads: 1 }, deps);
  const pcm16 = new Uint8Array(speech.at16k.buffer.slice(0));
  const { rows, opus } = await measurePrepare(one, speech, ROUNDS);
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
