/**
 * Reference speech services against their bare engines, in the same run (`npx tsx bench/engines.ts`).
 * For each engine: latency p50/p99 and speed (audio seconds per wall second) over the speech
 * fixtures, one request at a time and 4 at once, through the service (HTTP, warm engine) and
 * through the engine's own command line on the same inputs:
 *   ASR  `pocketsphinx_continuous -infile X.wav …`   MT  `apertium -u eng-spa FILE`   TTS  `espeak-ng -w OUT "…"`
 * and the ratio service / bare engine (goal: ≤ 1.1 per request once warm).
 *
 * BENCH_ROUNDS (default 3) sets how many times each fixture is sent per measurement; arguments
 * (`asr`, `mt`, `tts`) pick engines (default: all three).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readWav } from '../native/services/shared/wav.js';
import { Pool } from 'undici';
import { buildService, startService } from '../test/support/service-process.js';
import type { BuiltService, RunningService } from '../test/support/service-process.js';
import { loadSpeechFixtures } from '../test/support/speech-fixtures.js';

const run = promisify(execFile);

/** One keep-alive undici pool per service, as the node's speech adapter holds (STYLE.md §10). */
const pools = new Map<string, Pool>();

async function post(baseUrl: string, path: string, body: unknown): Promise<Buffer> {
  let pool = pools.get(baseUrl);
  if (!pool) {
    pool = new Pool(baseUrl, { connections: CONCURRENCY });
    pools.set(baseUrl, pool);
  }
  const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`${baseUrl}${path} answered ${res.statusCode}`);
  return bytes;
}
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 4;
const ENGINES = new Set(process.argv.length > 2 ? process.argv.slice(2) : ['asr', 'mt', 'tts']);
const MODEL = '/usr/share/pocketsphinx/model/en-us';
const POCKETSPHINX_ARGS = ['-hmm', `${MODEL}/en-us`, '-lm', `${MODEL}/en-us.lm.bin`, '-dict', `${MODEL}/cmudict-en-us.dict`, '-logfn', '/dev/null'];

/** One request: its wall time and the seconds of audio it heard or produced (0 for MT). */
interface Sample {
  ms: number;
  audioSeconds: number;
}

type Task = () => Promise<number>;

interface Measurement {
  samples: Sample[];
  wallMs: number;
}

/** Runs every task, `concurrency` at a time; each task resolves with its audio seconds. */
async function measure(tasks: readonly Task[], concurrency: number): Promise<Measurement> {
  const samples: Sample[] = [];
  let next = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (!task) return;
      const t0 = performance.now();
      const audioSeconds = await task();
      samples.push({ ms: performance.now() - t0, audioSeconds });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { samples, wallMs: performance.now() - started };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

interface Row {
  engine: string;
  mode: string;
  runner: string;
  m: Measurement;
}

function describeRow({ engine, mode, runner, m }: Row): string {
  const ms = m.samples.map((s) => s.ms);
  const audio = m.samples.reduce((sum, s) => sum + s.audioSeconds, 0);
  const speed = audio > 0 ? `${(audio / (m.wallMs / 1_000)).toFixed(2)}x` : '-';
  return [engine.padEnd(5), mode.padEnd(13), runner.padEnd(8), String(ms.length).padStart(4), percentile(ms, 50).toFixed(0).padStart(8), percentile(ms, 99).toFixed(0).padStart(8), speed.padStart(10), `${(m.samples.length / (m.wallMs / 1_000)).toFixed(2)}/s`.padStart(9)].join(' ');
}

/**
 * One request at a time, alternating service and CLI on the same input, so load from elsewhere on
 * the machine falls on both alike; the ratio is the median of the per-input pairs.
 */
async function compareSingle(service: Task[], cli: Task[]): Promise<{ viaService: Measurement; viaCli: Measurement; ratio: number }> {
  const viaService: Measurement = { samples: [], wallMs: 0 };
  const viaCli: Measurement = { samples: [], wallMs: 0 };
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, serviceTask] of service.entries()) {
      const cliTask = cli[i];
      if (!cliTask) continue;
      const a = await measure([serviceTask], 1);
      const b = await measure([cliTask], 1);
      viaService.samples.push(...a.samples);
      viaService.wallMs += a.wallMs;
      viaCli.samples.push(...b.samples);
      viaCli.wallMs += b.wallMs;
      ratios.push(a.wallMs / b.wallMs);
    }
  }
  return { viaService, viaCli, ratio: percentile(ratios, 50) };
}

/** `concurrency` requests at a time, alternating whole passes of service and CLI. */
async function compareConcurrent(service: Task[], cli: Task[], concurrency: number): Promise<{ viaService: Measurement; viaCli: Measurement; ratio: number }> {
  const viaService: Measurement = { samples: [], wallMs: 0 };
  const viaCli: Measurement = { samples: [], wallMs: 0 };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [tasks, total] of [[service, viaService], [cli, viaCli]] as const) {
      const pass = await measure(tasks, concurrency);
      total.samples.push(...pass.samples);
      total.wallMs += pass.wallMs;
    }
  }
  const p50 = (m: Measurement): number => percentile(m.samples.map((x) => x.ms), 50);
  return { viaService, viaCli, ratio: p50(viaService) / p50(viaCli) };
}

async function compare(engine: string, service: Task[], cli: Task[], rows: Row[]): Promise<void> {
  if (!ENGINES.has(engine)) return;
  // Warm both paths once (page cache, JIT) before measuring.
  await Promise.all([service[0]?.(), cli[0]?.()]);
  for (const mode of ['single', `${CONCURRENCY} concurrent`] as const) {
    const { viaService, viaCli, ratio } = mode === 'single' ? await compareSingle(service, cli) : await compareConcurrent(service, cli, CONCURRENCY);
    rows.push({ engine, mode, runner: 'service', m: viaService }, { engine, mode, runner: 'cli', m: viaCli });
    const throughput = viaCli.wallMs / viaService.wallMs;
    console.log(`${engine} ${mode}: service/cli latency ${ratio.toFixed(2)} (${ratio <= 1.1 ? 'within' : 'OVER'} the 1.1 goal); service throughput ${throughput.toFixed(2)}x the CLI's`);
  }
}

/**
 * `pocketsphinx_continuous` on 0.1 s of silence: about what it spends loading its model on every
 * call, printed so the ASR ratio can also be read against decoding alone.
 */
async function measureCliLoad(scratch: string): Promise<void> {
  const silence = join(scratch, 'silence.wav');
  await run('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', silence, 'trim', '0', '0.1']);
  const tasks = Array.from({ length: 3 }, () => async () => {
    await run('pocketsphinx_continuous', ['-infile', silence, ...POCKETSPHINX_ARGS]);
    return 0;
  });
  const load = await measure(tasks, 1);
  console.log(`asr: pocketsphinx_continuous on 0.1 s of silence (≈ its model load per call): p50 ${percentile(load.samples.map((s) => s.ms), 50).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const fixtures = loadSpeechFixtures();
  const scratch = mkdtempSync(join(tmpdir(), 'linguamesh-bench-'));
  const running: RunningService[] = [];
  const builds: BuiltService[] = [];
  const rows: Row[] = [];
  try {
    const start = async (id: string): Promise<RunningService> => {
      const built = await buildService(id);
      builds.push(built);
      const service = await startService(built.bundle);
      running.push(service);
      return service;
    };
    const [asr, mt, tts] = await Promise.all([start('asr-pocketsphinx'), start('mt-apertium'), start('tts-espeak')]);

    const wavFiles = fixtures.map((f) => {
      const file = join(scratch, f.file);
      writeFileSync(file, f.wav);
      return { file, f, seconds: readWav(f.wav).samples.length / 16_000 };
    });
    await compare(
      'asr',
      wavFiles.map(({ f, seconds }) => async () => {
        await post(asr.baseUrl, '/utterance', { job_id: 'bench', src_lang: 'en', audio: f.wav.toString('base64'), audio_format: 'wav', sample_rate: 16_000 });
        return seconds;
      }),
      wavFiles.map(({ file, seconds }) => async () => {
        await run('pocketsphinx_continuous', ['-infile', file, ...POCKETSPHINX_ARGS]);
        return seconds;
      }),
      rows,
    );
    if (ENGINES.has('asr')) await measureCliLoad(scratch);

    const textFiles = fixtures.map((f, i) => {
      const file = join(scratch, `text-${i}.txt`);
      writeFileSync(file, `${f.text}\n`);
      return { file, text: f.text };
    });
    await compare(
      'mt',
      textFiles.map(({ text }) => async () => {
        await post(mt.baseUrl, '/v1/translate', { src_lang: 'en', tgt_lang: 'es', text });
        return 0;
      }),
      textFiles.map(({ file }) => async () => {
        await run('apertium', ['-u', 'eng-spa', file]);
        return 0;
      }),
      rows,
    );

    let out = 0;
    await compare(
      'tts',
      fixtures.map((f) => async () => {
        const wav = readWav(await post(tts.baseUrl, '/tts', { text: f.text, voice: 'en' }));
        return wav.samples.length / wav.sampleRate;
      }),
      fixtures.map((f) => async () => {
        const file = join(scratch, `out-${out++}.wav`);
        await run('espeak-ng', ['-v', 'en', '-w', file, f.text]);
        const wav = readWav(readFileSync(file));
        return wav.samples.length / wav.sampleRate;
      }),
      rows,
    );

    console.log(`\n${['engine', 'mode'.padEnd(13), 'runner'.padEnd(8), '   n', ' p50 ms', ' p99 ms', ' audio s/s', ' req/s'].join(' ')}`);
    for (const row of rows) console.log(describeRow(row));
    console.log(`\n${fixtures.length} fixtures × ${ROUNDS} rounds per measurement; audio s/s = seconds of audio heard (ASR) or produced (TTS) per wall-clock second.`);
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
    await Promise.all(running.map((s) => s.stop()));
    for (const built of builds) built.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
