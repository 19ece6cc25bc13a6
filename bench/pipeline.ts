/**
 * Jobs end to end (issue "Jobs end to end"), three measurements, each against its baseline in the
 * same run:
 *
 * (a) Orchestration overhead. A scheduler (`startScheduler`) and a whole node (`startNode`: link,
 *     heartbeats, job machine, real speech HTTP client) on loopback; the node's ASR, NMT and TTS are
 *     instant HTTP services on 127.0.0.1 (they read the request and answer at once: a transcript, a
 *     translation, a 1.6 s WAV) and its audio port is the passthrough one (the audio workers are
 *     (b)'s subject). A client sends a real fixture's pcm16 as an `utterance` and waits for its
 *     `translation_result`. The baseline is the same three HTTP calls with the same bodies made
 *     directly in sequence over kept-alive connections. A third path is the floor
 *     (bench/bare-relay.ts): the same four WebSocket hops and three calls with nothing but `ws` and
 *     JSON on them, what any design with these hops pays. The three alternate, in rotating order, so
 *     load from elsewhere falls on all; printed: the latencies, the ratios to the baseline (goal
 *     ≤ 1.2) and the overhead per job, p50 (goal < 5 ms) and p99.
 * (b) Audio workers: decode + resample + Silero VAD in × real time per core (goal ≥ 100×), the
 *     measurement of bench/audio.ts (bench/audio-throughput.ts) against the engines on this thread.
 * (c) The real engines: a scheduler and a node (`startNodeRole`) running the reference services
 *     (PocketSphinx, Apertium, eSpeak NG) as OS processes; each flite fixture goes in as Opus
 *     Plan-A chunks, and end of speech (the `is_final` chunk) → `translation_result` is timed,
 *     p50/p99; the baseline is ASR → NMT → TTS called directly on the same service processes.
 *
 *   npx tsx bench/pipeline.ts [overhead] [audio] [engines] [--jobs=300] [--warmup=100] [--rounds=3] [--audio-rounds=20]
 *
 * Every process and server it starts is stopped before it exits, also on SIGINT/SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { readWav, writeWav } from '../native/services/shared/wav.js';
import { startAudioPool } from '../src/adapters/audio-pool.adapter.js';
import { createJobsRuntime } from '../src/cli/jobs-runtime.js';
import { startNodeRole } from '../src/cli/node-role.js';
import { startNode } from '../src/cli/start-node.js';
import { startScheduler } from '../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../src/cli/start-scheduler.js';
import { createBus } from '../src/kernel/bus.js';
import { systemClock } from '../src/kernel/clock.js';
import { silentLogger } from '../src/kernel/logger.js';
import { joinPlanA, splitPlanA } from '../src/protocol/plan-a.js';
import { encodeFrame, encodeJson } from '../src/protocol/validation.js';
import { FakeHardware } from '../test/fakes/hardware.fake.js';
import { PassthroughAudio } from '../test/fakes/passthrough-audio.fake.js';
import { FakeServiceRegistry } from '../test/fakes/service-registry.fake.js';
import { SessionClient } from '../test/support/dispatch-harness.js';
import type { Message } from '../test/support/dispatch-harness.js';
import { STANDARD_SERVICES } from '../test/support/jobs-harness.js';
import { buildService } from '../test/support/service-process.js';
import type { BuiltService } from '../test/support/service-process.js';
import { LinkClient } from '../test/support/node-link-client.js';
import { loadSpeechFixtures } from '../test/support/speech-fixtures.js';
import { benchSpeech, measurePrepare } from './audio-throughput.js';
import { startBareRelay } from './bare-relay.js';
import { argNumber, fmt, report, summarize } from './stats.js';

const JOBS = argNumber('jobs', 300);
const ROUNDS = argNumber('rounds', 3);
const AUDIO_ROUNDS = argNumber('audio-rounds', 20);
const PARTS = new Set(process.argv.slice(2).filter((a) => !a.startsWith('--')));
const wanted = (part: string): boolean => PARTS.size === 0 || PARTS.has(part);
const RATIO_GOAL = 1.2;
/** Jobs of each path before any is timed, so the JIT has optimised every path. */
const WARMUP_JOBS = argNumber('warmup', 100);

/** Whether `ws` masks and unmasks frames natively (the `bufferutil` dependency) or in JavaScript. */
function wsMasking(): string {
  if (process.env.WS_NO_BUFFER_UTIL) return 'JavaScript (WS_NO_BUFFER_UTIL is set)';
  try {
    createRequire(import.meta.url).resolve('bufferutil');
    return 'native (bufferutil)';
  } catch {
    return 'JavaScript (bufferutil is not installed)';
  }
}
const OVERHEAD_GOAL_MS = 5;
const PIPELINE = { use_nmt: true, use_tts: true };
const RESULT_TIMEOUT_MS = 60_000;

/** What to stop on the way out, last started first. */
const cleanups: Array<() => Promise<unknown>> = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((err: unknown) => console.error('cleanup failed:', err));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

const pcm16Base64 = (wav: Buffer): string => {
  const samples = readWav(wav).samples;
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One instant HTTP service: reads and parses the JSON request, answers at once. */
async function instantService(answer: (res: ServerResponse) => void): Promise<{ baseUrl: string; server: Server }> {
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (req.method !== 'POST') {
        console.error(`instant service: ${String(req.method)} ${String(req.url)} ${req.headers['user-agent'] ?? ''}`);
        res.writeHead(404).end();
        return;
      }
      try {
        JSON.parse(body);
      } catch {
        res.writeHead(400).end();
        return;
      }
      answer(res);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { baseUrl: `http://127.0.0.1:${port}`, server };
}

function json(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Kept-alive connections per origin and bodies written with `encodeJson`, as the node's speech adapter does. */
function directClient(): { post(baseUrl: string, path: string, body: object): Promise<Buffer>; close(): Promise<void> } {
  const pools = new Map<string, Pool>();
  return {
    async post(baseUrl, path, body) {
      let pool = pools.get(baseUrl);
      if (!pool) {
        pool = new Pool(baseUrl, { connections: 8, keepAliveTimeout: 30_000 });
        pools.set(baseUrl, pool);
      }
      const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json; charset=utf-8' }, body: encodeJson(body) });
      const bytes = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 200) throw new Error(`${baseUrl}${path} answered ${res.statusCode}: ${bytes.toString('utf8').slice(0, 200)}`);
      return bytes;
    },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startBenchScheduler(): Promise<SchedulerHandle> {
  const scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: silentLogger(), allowCpuNodes: true, heartbeatIntervalMs: 250 });
  cleanups.push(() => scheduler.stop());
  await scheduler.ready;
  return scheduler;
}

async function session(scheduler: SchedulerHandle, init: Record<string, unknown> = {}): Promise<SessionClient> {
  const client = await SessionClient.connect(`ws://127.0.0.1:${scheduler.port}/ws/session`);
  cleanups.push(() => client.close());
  await client.init(init);
  return client;
}

/**
 * The next message that is not a `ui_event`, which must be a `translation_result`. Every message is
 * taken, `ui_event`s too, as a client handles them: left in the harness's inbox they would pile up,
 * and each wait would scan them all (the system's latency would grow with every job).
 */
async function nextResult(client: SessionClient): Promise<Message> {
  for (;;) {
    const message = await client.next(() => true, RESULT_TIMEOUT_MS);
    if (message.type === 'ui_event') continue;
    if (message.type !== 'translation_result') throw new Error(`expected a translation_result, got ${JSON.stringify(message).slice(0, 300)}`);
    return message;
  }
}

/** A WAV of `seconds` of a 220 Hz tone at 22 050 Hz, as a TTS service answers. */
function toneWav(seconds: number): Buffer {
  const tone = new Int16Array(Math.round(seconds * 22_050)).map((_, i) => Math.round(8_000 * Math.sin((2 * Math.PI * 220 * i) / 22_050)));
  return writeWav(tone, 22_050);
}

/** (a) Scheduler + node with instant services against the same three HTTP calls. */
async function orchestrationOverhead(): Promise<void> {
  const fixture = loadSpeechFixtures()[0]!;
  const transcript = fixture.text;
  const translation = 'dónde está la estación de tren';
  /** What the client sends and the TTS service answers; the services read it at each request. */
  const payloads = [
    // A real fixture's speech in; about the WAV eSpeak NG answers for the translation out.
    { label: `the fixture "${fixture.text}" (pcm16) in, 1.6 s of TTS WAV out`, audio: pcm16Base64(fixture.wav), wav: toneWav(1.6) },
    // What the orchestration costs with (almost) no audio to carry.
    { label: '40 ms of pcm16 in, 0.1 s of TTS WAV out', audio: Buffer.alloc(1_280).toString('base64'), wav: toneWav(0.1) },
  ];
  let payload = payloads[0]!;
  const asr = await instantService((res) => json(res, { text: transcript, language: 'en' }));
  const nmt = await instantService((res) => json(res, { ok: true, text: translation }));
  const tts = await instantService((res) => {
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': payload.wav.byteLength });
    res.end(payload.wav);
  });
  const urls = [asr.baseUrl, nmt.baseUrl, tts.baseUrl];

  const scheduler = await startBenchScheduler();
  const dataDir = mkdtempSync(join(tmpdir(), 'lm-bench-node-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const bus = createBus();
  const registry = new FakeServiceRegistry(bus, STANDARD_SERVICES.map((s, i) => ({ ...s, baseUrl: urls[i]! })));
  const node = startNode({
    schedulerUrl: `ws://127.0.0.1:${scheduler.port}/ws/node`,
    dataDir,
    httpPort: 0,
    bus,
    logger: silentLogger(),
    hardware: new FakeHardware(),
    services: { registry },
    maxConcurrentJobs: 4,
    jobs: (context) => createJobsRuntime({ ...context, audio: new PassthroughAudio() }),
  });
  cleanups.push(() => node.stop());
  await node.ready;
  await waitUntil(() => scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: PIPELINE }).length === 1, 'the node in en:es', 30_000);

  const client = await session(scheduler, { tts_format: 'pcm16' });
  let index = 0;
  const viaSystem = async (): Promise<number> => {
    const start = performance.now();
    // Written with encodeFrame, as the project's own session client (the `translate` command) does.
    const frame = { type: 'utterance', session_id: client.sessionId, src_lang: 'en', tgt_lang: 'es', audio_format: 'pcm16', utterance_index: index++, manual_cut: true, audio: payload.audio, sample_rate: 16_000 };
    client.send(encodeFrame(frame));
    const result = await nextResult(client);
    const ms = performance.now() - start;
    if (result.text_translated !== translation) throw new Error(`unexpected result ${JSON.stringify(result).slice(0, 300)}`);
    return ms;
  };
  const direct = directClient();
  cleanups.push(() => direct.close());
  /** The bodies the node sends (PROTOCOL.md §9.2–§9.4), one call after the other. */
  const threeCalls = async (http: ReturnType<typeof directClient>, audio: string, jobId: string) => {
    const heard = JSON.parse((await http.post(asr.baseUrl, '/utterance', { job_id: jobId, src_lang: 'en', audio, audio_format: 'pcm16', sample_rate: 16_000 })).toString('utf8')) as { text: string };
    const translated = JSON.parse((await http.post(nmt.baseUrl, '/v1/translate', { src_lang: 'en', tgt_lang: 'es', text: heard.text })).toString('utf8')) as { text: string };
    const speech = await http.post(tts.baseUrl, '/tts', { text: translated.text, voice: 'es-la', language: 'es' });
    return { text_asr: heard.text, text_translated: translated.text, tts_audio: speech.toString('base64') };
  };
  const viaDirect = async (): Promise<number> => {
    const start = performance.now();
    await threeCalls(direct, payload.audio, `bench-${index}`);
    return performance.now() - start;
  };
  // The floor: the same four WebSocket hops and three calls, with nothing but ws and JSON.
  const relayHttp = directClient();
  cleanups.push(() => relayHttp.close());
  const relay = await startBareRelay((job) => threeCalls(relayHttp, job.audio, `relay-${job.id}`));
  cleanups.push(() => relay.close());
  const relayClient = await LinkClient.connect(relay.clientUrl);
  cleanups.push(() => relayClient.close());
  const viaFloor = async (): Promise<number> => {
    const start = performance.now();
    relayClient.send(encodeJson({ type: 'utterance', audio: payload.audio }));
    const result = await relayClient.next((m) => m.type === 'translation_result', RESULT_TIMEOUT_MS);
    const ms = performance.now() - start;
    if (result.text_translated !== translation) throw new Error(`unexpected relay result ${JSON.stringify(result).slice(0, 300)}`);
    return ms;
  };
  // What the process spends with no job at all (heartbeats every 250 ms, timers), per ms of wall
  // time: taken out of each job's CPU time below, in proportion to the job's wall time.
  const idleStart = process.cpuUsage();
  const idleAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idleUsed = process.cpuUsage(idleStart);
  const idleCpuPerMs = (idleUsed.user + idleUsed.system) / 1000 / (performance.now() - idleAt);
  const cpu = { system: 0, floor: 0, direct: 0 };
  /** Wall time of `run`, and its CPU time (this process, all threads, less the idle rate) added to `cpu[kind]`. */
  const measured = async (kind: keyof typeof cpu, run: () => Promise<number>): Promise<number> => {
    const before = process.cpuUsage();
    const ms = await run();
    const used = process.cpuUsage(before);
    cpu[kind] += (used.user + used.system) / 1000 - idleCpuPerMs * ms;
    return ms;
  };
  const paths = [
    ['system', viaSystem],
    ['floor', viaFloor],
    ['direct', viaDirect],
  ] as const;

  for (const current of payloads) {
    payload = current;
    for (let i = 0; i < WARMUP_JOBS; i++) for (const [, run] of paths) await run();
    const ms = { system: [] as number[], floor: [] as number[], direct: [] as number[] };
    const overhead: number[] = [];
    const overFloor: number[] = [];
    const added: number[] = [];
    cpu.system = 0;
    cpu.floor = 0;
    cpu.direct = 0;
    for (let i = 0; i < JOBS; i++) {
      // Rotate which goes first, so none always runs on a just-warmed path.
      const taken = { system: 0, floor: 0, direct: 0 };
      for (let k = 0; k < paths.length; k++) {
        const [kind, run] = paths[(i + k) % paths.length]!;
        taken[kind] = await measured(kind, run);
        ms[kind].push(taken[kind]);
      }
      overhead.push(taken.system - taken.direct);
      overFloor.push(taken.floor - taken.direct);
      added.push(taken.system - taken.floor);
    }
    const sys = summarize(ms.system);
    const floor = summarize(ms.floor);
    const base = summarize(ms.direct);
    const over = summarize(overhead);
    const ratio = sys.p50 / base.p50;
    const floorRatio = floor.p50 / base.p50;
    report(`(a) orchestration overhead, ${JOBS} jobs one at a time: ${payload.label}`, [
      ['direct: ASR → NMT → TTS over HTTP (baseline)', `p50 ${fmt(base.p50, 2)} ms, p99 ${fmt(base.p99, 2)} ms`],
      ['client → scheduler → node → services → client', `p50 ${fmt(sys.p50, 2)} ms, p99 ${fmt(sys.p99, 2)} ms`],
      ['ratio system / direct (p50)', `${fmt(ratio, 2)}  (goal ≤ ${RATIO_GOAL}: ${ratio <= RATIO_GOAL ? 'met' : 'NOT met'})`],
      ['overhead per job', `p50 ${fmt(over.p50, 2)} ms (goal < ${OVERHEAD_GOAL_MS} ms: ${over.p50 < OVERHEAD_GOAL_MS ? 'met' : 'NOT met'}), p99 ${fmt(over.p99, 2)} ms`],
      // The same hops with nothing on them: how far below the system any design with them can go.
      ['floor: the same 4 WebSocket hops, bare ws + JSON', `p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms`],
      ['ratio floor / direct (p50)', `${fmt(floorRatio, 2)}${floorRatio > RATIO_GOAL ? `  (above ${RATIO_GOAL} before any validation, session or actor)` : ''}`],
      ['floor overhead per job', `p50 ${fmt(summarize(overFloor).p50, 2)} ms; system over floor p50 ${fmt(summarize(added).p50, 2)} ms`],
      // CPU time does not grow with other load on the machine, as wall time does.
      [
        `CPU per job (this process, less ${fmt(idleCpuPerMs * 1000, 1)} ms/s idle)`,
        `system ${fmt(cpu.system / JOBS, 2)} ms, floor ${fmt(cpu.floor / JOBS, 2)} ms, direct ${fmt(cpu.direct / JOBS, 2)} ms, overhead ${fmt((cpu.system - cpu.direct) / JOBS, 2)} ms`,
      ],
      ['WebSocket frame masking', wsMasking()],
    ]);
  }
}

/** (b) The audio workers' decode + resample + VAD, per core. */
async function audioWorkers(): Promise<void> {
  const pool = await startAudioPool({ maxThreads: 1 }, { logger: silentLogger(), clock: systemClock });
  cleanups.push(() => pool.close());
  const { rows } = await measurePrepare(pool, benchSpeech(), AUDIO_ROUNDS);
  report('(b) audio workers: decode + resample + VAD, × real time per core', rows);
}

/** (c) The reference services, through the whole system and directly. */
async function realEngines(): Promise<void> {
  const fixtures = loadSpeechFixtures();
  const built: BuiltService[] = await Promise.all(['asr-pocketsphinx', 'mt-apertium', 'tts-espeak'].map((id) => buildService(id)));
  cleanups.push(async () => built.forEach((b) => b.remove()));
  const scheduler = await startBenchScheduler();
  const dataDir = mkdtempSync(join(tmpdir(), 'lm-bench-node-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  writeFileSync(join(dataDir, 'node-identity.json'), JSON.stringify({ node_id: 'node-BENCH0001' }));
  const node = await startNodeRole({
    schedulerUrl: `ws://127.0.0.1:${scheduler.port}/ws/node`,
    dataDir,
    httpPort: 0,
    allowCpuServices: true,
    heartbeatDebounceMs: 200,
    extraServiceDirs: built.map((b) => b.bundle.outDir),
    logger: silentLogger(),
  });
  cleanups.push(() => node.stop());
  const running = () => node.services.registry.list().filter((s) => s.state === 'running');
  await waitUntil(() => running().length === 3, 'the three services running', 90_000);
  await waitUntil(() => scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: PIPELINE }).length === 1, 'the node in en:es', 30_000);
  const urlOf = (type: string): string => running().find((s) => s.type === type)!.baseUrl!;

  const encoder = await startAudioPool({ maxThreads: 1 }, { logger: silentLogger(), clock: systemClock });
  cleanups.push(() => encoder.close());
  const chunked = await Promise.all(
    fixtures.map(async (f) => {
      const opus = await encoder.encode({ audio: { kind: 'wav', bytes: new Uint8Array(f.wav) }, format: 'opus' }, new AbortController().signal);
      const packets = splitPlanA(opus.bytes).packets;
      // 200 ms chunks, as a web client streams them.
      const chunks: string[] = [];
      for (let i = 0; i < packets.length; i += 10) chunks.push(joinPlanA(packets.slice(i, i + 10)).toString('base64'));
      return chunks;
    }),
  );
  const client = await session(scheduler);
  const viaSystem = async (i: number): Promise<number> => {
    chunked[i]!.forEach((chunk, seq) => client.chunk(chunk, false, seq));
    const start = performance.now();
    client.chunk('', true);
    await nextResult(client);
    return performance.now() - start;
  };
  const direct = directClient();
  cleanups.push(() => direct.close());
  const viaDirect = async (i: number): Promise<number> => {
    const start = performance.now();
    const heard = JSON.parse((await direct.post(urlOf('asr'), '/utterance', { job_id: `bench-${i}`, src_lang: 'en', audio: pcm16Base64(fixtures[i]!.wav), audio_format: 'pcm16', sample_rate: 16_000 })).toString('utf8')) as { text: string };
    const translated = JSON.parse((await direct.post(urlOf('nmt'), '/v1/translate', { src_lang: 'en', tgt_lang: 'es', text: heard.text })).toString('utf8')) as { text: string };
    await direct.post(urlOf('tts'), '/tts', { text: translated.text, voice: 'es', language: 'es' });
    return performance.now() - start;
  };

  await viaSystem(0);
  await viaDirect(0);
  const system: number[] = [];
  const baseline: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < fixtures.length; i++) {
      system.push(await viaSystem(i));
      baseline.push(await viaDirect(i));
    }
  }
  const sys = summarize(system);
  const base = summarize(baseline);
  report(`(c) real engines: ${fixtures.length} flite fixtures × ${ROUNDS} rounds, PocketSphinx → Apertium → eSpeak NG`, [
    ['direct: ASR → NMT → TTS on the same processes (baseline)', `p50 ${fmt(base.p50, 0)} ms, p99 ${fmt(base.p99, 0)} ms`],
    ['end of speech → translation_result (Opus chunks in, Opus out)', `p50 ${fmt(sys.p50, 0)} ms, p99 ${fmt(sys.p99, 0)} ms`],
    ['ratio system / direct (p50)', fmt(sys.p50 / base.p50, 2)],
  ]);
}

try {
  if (wanted('overhead')) {
    await orchestrationOverhead();
    await cleanUp();
  }
  if (wanted('audio')) {
    await audioWorkers();
    await cleanUp();
  }
  if (wanted('engines')) await realEngines();
} finally {
  await cleanUp();
}
