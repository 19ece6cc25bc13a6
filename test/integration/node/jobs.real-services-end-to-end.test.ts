/**
 * Jobs end to end on the node, for real: the reference services (PocketSphinx ASR ×2, Apertium MT,
 * eSpeak NG TTS) built with buildServiceDirectory and running as OS processes on loopback, the real
 * audio pool (started and stopped as the runtime's `audio` child), the real undici speech client.
 * A flite fixture goes in as a `job_assign` — Opus Plan A encoded with the audio pool, and pcm16 —
 * and comes back as a `job_result` with the English transcript, a Spanish translation and speech
 * that decodes to a plausible duration. Then the ASR service a job is using is killed mid-call, and
 * the job completes on the other one.
 *
 * The registry is a fake that points at the real processes: the hot-plug services runtime is built
 * elsewhere. One set of processes serves the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../../native/services/shared/wav.js';
import { startAudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import { createSpeechHttpAdapter } from '../../../src/adapters/speech-http.adapter.js';
import { createJobsRuntime } from '../../../src/cli/jobs-runtime.js';
import type { JobsRuntime } from '../../../src/cli/jobs-runtime.js';
import { createBus } from '../../../src/kernel/bus.js';
import type { Bus } from '../../../src/kernel/bus.js';
import { systemClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { SpeechPort } from '../../../src/kernel/ports/speech.port.js';
import { bootSystem } from '../../../src/kernel/system.js';
import type { SystemHandle } from '../../../src/kernel/system.js';
import { encodeBase64 } from '../../../src/protocol/base64.js';
import type { JobAssign, JobResult } from '../../../src/protocol/node-jobs.schema.js';
import { FakeServiceControl } from '../../fakes/service-control.fake.js';
import { FakeServiceRegistry } from '../../fakes/service-registry.fake.js';
import { ENGINE_TEST_TIMEOUT_MS, buildService, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';
import { wordErrorRate, words } from '../../support/word-error-rate.js';

const NODE_ID = 'node-0E2E0001';
const fixtures = loadSpeechFixtures();
const built: BuiltService[] = [];
const processes = new Map<string, RunningService>();
let encoder: AudioPool;
let bus: Bus;
let registry: FakeServiceRegistry;
let runtime: JobsRuntime;
let system: SystemHandle;
/** Calls into the speech port, by service id, and a hook run when one starts. */
const speechCalls: { op: string; serviceId: string }[] = [];
let onTranscribe: ((serviceId: string) => void) | undefined;
const finished: string[] = [];

function observed(inner: SpeechPort): SpeechPort {
  return {
    transcribe: (service, request, signal) => {
      speechCalls.push({ op: 'transcribe', serviceId: service.id });
      const call = inner.transcribe(service, request, signal);
      onTranscribe?.(service.id);
      return call;
    },
    translate: (service, request, signal) => {
      speechCalls.push({ op: 'translate', serviceId: service.id });
      return inner.translate(service, request, signal);
    },
    synthesize: (service, request, signal) => {
      speechCalls.push({ op: 'synthesize', serviceId: service.id });
      return inner.synthesize(service, request, signal);
    },
    forget: (id) => inner.forget(id),
    close: () => inner.close(),
  };
}

beforeAll(async () => {
  const [asr, mt, tts] = await Promise.all(['asr-pocketsphinx', 'mt-apertium', 'tts-espeak'].map((id) => buildService(id)));
  built.push(asr!, mt!, tts!);
  const started = await Promise.all([
    startService(asr!.bundle, { env: { ASR_WORKERS: '1' } }),
    startService(asr!.bundle, { env: { ASR_WORKERS: '1' } }),
    startService(mt!.bundle),
    startService(tts!.bundle),
  ]);
  ['asr-a', 'asr-b', 'mt', 'tts'].forEach((id, i) => processes.set(id, started[i]!));
  encoder = await startAudioPool({ maxThreads: 1 }, { logger: silentLogger(), clock: systemClock });

  bus = createBus();
  registry = new FakeServiceRegistry(bus, [
    { id: 'asr-a', type: 'asr', state: 'running', languages: { asr: ['en'] }, version: '1.0.0', baseUrl: processes.get('asr-a')!.baseUrl },
    { id: 'asr-b', type: 'asr', state: 'running', languages: { asr: ['en'] }, version: '1.0.0', baseUrl: processes.get('asr-b')!.baseUrl },
    { id: 'mt', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'en', tgt: 'es' }] }, version: '1.0.0', baseUrl: processes.get('mt')!.baseUrl },
    { id: 'tts', type: 'tts', state: 'running', languages: { tts: ['en', 'es'], voices: { en: ['en'], es: ['es'] } }, version: '1.0.0', baseUrl: processes.get('tts')!.baseUrl },
  ]);
  const logger = silentLogger();
  runtime = createJobsRuntime({
    bus,
    clock: systemClock,
    logger,
    registry,
    control: new FakeServiceControl(registry, systemClock),
    audioPool: { maxThreads: 1 },
    speech: observed(createSpeechHttpAdapter({}, { logger })),
  });
  system = bootSystem({
    root: { id: 'node', strategy: 'one_for_one', children: runtime.children },
    clock: systemClock,
    logger,
    // Which of the runtime's children reach their final state, in order (the stop order).
    inspectors: [
      (event) => {
        if (event.type !== '@xstate.snapshot' || (event.snapshot as { status?: string }).status !== 'done') return;
        const id = (event.actorRef as { id?: string }).id;
        if ((id === 'audio' || id === 'jobs') && !finished.includes(id)) finished.push(id);
      },
    ],
  });
  bus.publish({ type: 'link.registered', nodeId: NODE_ID });
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await system?.stop();
  await runtime?.close();
  await encoder?.close();
  await Promise.all([...processes.values()].map((p) => p.stop()));
  built.forEach((b) => b.remove());
}, ENGINE_TEST_TIMEOUT_MS);

/** Sends a job and resolves with its result (real processes: a bounded wait on the bus). */
function run(job: JobAssign): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no job_result for ${job.job_id}`)), 60_000);
    const unsubscribe = bus.subscribe('link.send', ({ message }) => {
      if (message.type !== 'job_result' || message.job_id !== job.job_id) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(message);
    });
    bus.publish({ type: 'link.jobAssigned', message: job });
  });
}

let index = 0;
function jobFor(audio: string, audioFormat: string, extra: Partial<JobAssign> = {}): JobAssign {
  index += 1;
  return {
    type: 'job_assign',
    job_id: `job-0e2e0000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    attempt_id: 1,
    session_id: 's-0E2E0001',
    trace_id: '0b6e4f2c-9a1d-4d0e-8b9f-3c2e1a0f5d77',
    utterance_index: index,
    src_lang: 'en',
    tgt_lang: 'es',
    pipeline: { use_asr: true, use_nmt: true, use_tts: true },
    audio,
    audio_format: audioFormat,
    sample_rate: 16_000,
    padding_ms: 220,
    ...extra,
  };
}

async function planAOf(wav: Buffer): Promise<string> {
  const encoded = await encoder.encode({ audio: { kind: 'wav', bytes: new Uint8Array(wav) }, format: 'opus' }, new AbortController().signal);
  return encodeBase64(encoded.bytes);
}

function expectGoodResult(result: JobResult, text: string): void {
  expect(result, JSON.stringify(result.error)).toMatchObject({ success: true, node_id: NODE_ID });
  expect(wordErrorRate([{ reference: text, hypothesis: result.text_asr ?? '' }]).wer).toBeLessThanOrEqual(0.25);
  const spanish = result.text_translated ?? '';
  expect(words(spanish).length).toBeGreaterThan(0);
  expect(spanish).not.toBe(result.text_asr);
  const timings = result.extra?.service_timings;
  expect(timings?.asr_ms).toBeGreaterThan(0);
  expect(timings?.tts_ms).toBeGreaterThan(0);
  expect(timings?.total_ms).toBeGreaterThanOrEqual((timings?.asr_ms ?? 0) + (timings?.nmt_ms ?? 0) + (timings?.tts_ms ?? 0));
  expect(result.processing_time_ms).toBe(timings?.total_ms);
}

describe('jobs against the real reference services', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('Opus Plan A in → English transcript, Spanish translation, Opus speech of a plausible length', async () => {
    const fixture = fixtures[0]!;
    const result = await run(jobFor(await planAOf(fixture.wav), 'opus'));
    expectGoodResult(result, fixture.text);
    // Apertium's eng-spa says "dónde es la canal de tren": clumsy, but Spanish.
    expect(words(result.text_translated ?? '')).toEqual(expect.arrayContaining(['dónde', 'tren']));
    expect(result.tts_format).toBe('opus');
    const speech = await encoder.decode({ bytes: Buffer.from(result.tts_audio ?? '', 'base64'), format: 'opus', sampleRate: 16_000 }, new AbortController().signal);
    // eSpeak NG says a short Spanish sentence in one to five seconds.
    expect(speech.durationMs).toBeGreaterThan(700);
    expect(speech.durationMs).toBeLessThan(6_000);
    expect(speech.warnings).toEqual([]);
    console.log(`[jobs e2e] "${result.text_asr}" → "${result.text_translated}", ${speech.durationMs} ms of speech, timings ${JSON.stringify(result.extra?.service_timings)}`);
  });

  it('pcm16 in, WAV out at 16 kHz', async () => {
    const fixture = fixtures[1]!;
    const samples = readWav(fixture.wav).samples;
    const pcm = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
    const result = await run(jobFor(encodeBase64(pcm), 'pcm16', { tts_format: 'wav' }));
    expectGoodResult(result, fixture.text);
    const wav = Buffer.from(result.tts_audio ?? '', 'base64');
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(readWav(wav).sampleRate).toBe(16_000);
  });

  it('the ASR service in use is killed mid-call → the job completes on the other one', async () => {
    const fixture = fixtures[2]!;
    const audio = await planAOf(fixture.wav);
    speechCalls.length = 0;
    let killed: string | undefined;
    onTranscribe = (serviceId) => {
      if (killed) return;
      killed = serviceId;
      const victim = processes.get(serviceId)!;
      // Let the request reach the service, then kill it while it decodes.
      setTimeout(() => victim.child.kill('SIGKILL'), 30);
    };
    const result = await run(jobFor(audio, 'opus'));
    onTranscribe = undefined;
    const transcribes = speechCalls.filter((c) => c.op === 'transcribe').map((c) => c.serviceId);
    expect(transcribes).toHaveLength(2);
    expect(transcribes[0]).toBe(killed);
    expect(transcribes[1]).not.toBe(killed);
    expectGoodResult(result, fixture.text);
    expect(await processes.get(killed!)!.exited).toMatchObject({ signal: 'SIGKILL' });
    // As the services runtime would announce it; the node drops the connections it kept.
    registry.setState(killed!, 'failed', 'killed');
  });

  it('the node stops its jobs first, then the audio pool', async () => {
    expect(runtime.children.map((c) => c.id)).toEqual(['audio', 'jobs']);
    expect(finished).toEqual([]);
    await expect(system.stop()).resolves.toEqual({ reason: 'shutdown' });
    expect(finished).toEqual(['jobs', 'audio']);
  });
});
