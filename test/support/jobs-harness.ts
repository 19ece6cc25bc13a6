/**
 * The node's job processing (`createJobsRuntime`) under a real supervisor tree on a fake clock, with
 * fake ports: a registry with three running services (ASR en, NMT en→es, TTS es) unless told
 * otherwise, a control that starts services on the fake clock, fake audio workers and fake speech
 * services. `link.jobAssigned` goes in on the bus; `link.send` is captured.
 */
import { createJobsRuntime } from '../../src/cli/jobs-runtime.js';
import type { JobsRuntime } from '../../src/cli/jobs-runtime.js';
import type { JobsOptions } from '../../src/actors/node/jobs-options.js';
import { createBus } from '../../src/kernel/bus.js';
import type { BusEvent, BusEventType } from '../../src/kernel/bus.js';
import type { OutboundLinkMessage } from '../../src/kernel/bus-events.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { bootSystem } from '../../src/kernel/system.js';
import type { SystemHandle } from '../../src/kernel/system.js';
import type { JobAssign, JobResult } from '../../src/protocol/node-jobs.schema.js';
import { FakeAudio } from '../fakes/audio.fake.js';
import { FakeServiceControl } from '../fakes/service-control.fake.js';
import { FakeServiceRegistry } from '../fakes/service-registry.fake.js';
import type { FakeServiceInput } from '../fakes/service-registry.fake.js';
import { FakeSpeech } from '../fakes/speech.fake.js';

export const NODE_ID = 'node-0000JOBS';

/** ASR en, NMT en→es, TTS es with voice `es-la`, all running. */
export const STANDARD_SERVICES: FakeServiceInput[] = [
  { id: 'asr-1', type: 'asr', state: 'running', languages: { asr: ['en'] }, version: '1.0.0', baseUrl: 'http://127.0.0.1:6001' },
  { id: 'nmt-1', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'en', tgt: 'es' }] }, version: '1.0.0', baseUrl: 'http://127.0.0.1:6002' },
  { id: 'tts-1', type: 'tts', state: 'running', languages: { tts: ['es'], voices: { es: ['es-la'] } }, version: '2.0.0', baseUrl: 'http://127.0.0.1:6003' },
];

let counter = 0;

/** A job_assign for en → es with a small valid Plan-A audio (the fake audio port does not decode it). */
export function jobAssign(overrides: Partial<JobAssign> = {}): JobAssign {
  counter += 1;
  return {
    type: 'job_assign',
    job_id: `job-00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    attempt_id: 1,
    session_id: 's-9A0B1C2D',
    trace_id: '0b6e4f2c-9a1d-4d0e-8b9f-3c2e1a0f5d77',
    utterance_index: counter,
    src_lang: 'en',
    tgt_lang: 'es',
    pipeline: { use_asr: true, use_nmt: true, use_tts: true },
    audio: 'AwD4//4DAPj//gMA+P/+',
    audio_format: 'opus',
    sample_rate: 16_000,
    padding_ms: 220,
    ...overrides,
  };
}

export interface JobsHarnessOptions {
  services?: FakeServiceInput[];
  jobs?: Partial<JobsOptions>;
  /** Publish `link.registered` at start. Default true. */
  registered?: boolean;
}

export interface JobsHarness {
  clock: FakeClock;
  registry: FakeServiceRegistry;
  control: FakeServiceControl;
  audio: FakeAudio;
  speech: FakeSpeech;
  runtime: JobsRuntime;
  system: SystemHandle;
  events: BusEvent[];
  errors: unknown[];
  publish(event: BusEvent): void;
  /** Publishes `link.jobAssigned` and lets the job run as far as it goes without time passing. */
  assign(job: JobAssign): Promise<void>;
  /** Moves the fake clock, letting promises settle between timers. */
  advance(ms: number): Promise<void>;
  sent(): OutboundLinkMessage[];
  sentFor(jobId: string): OutboundLinkMessage[];
  resultsFor(jobId: string): JobResult[];
  of<K extends BusEventType>(type: K): Extract<BusEvent, { type: K }>[];
  stop(): Promise<void>;
}

export async function startJobsHarness(options: JobsHarnessOptions = {}): Promise<JobsHarness> {
  const clock = new FakeClock();
  const bus = createBus();
  const events: BusEvent[] = [];
  bus.subscribeAll((e) => events.push(e));
  const registry = new FakeServiceRegistry(bus, options.services ?? STANDARD_SERVICES);
  const control = new FakeServiceControl(registry, clock);
  const audio = new FakeAudio();
  const speech = new FakeSpeech();
  const logger = silentLogger();
  const runtime = createJobsRuntime({ bus, clock, logger, registry, control, audio, speech, jobs: options.jobs });
  const system = bootSystem({ root: { id: 'node', strategy: 'one_for_one', children: runtime.children }, clock, logger });
  const errors: unknown[] = [];
  system.root.subscribe({ error: (err) => errors.push(err) });
  if (options.registered !== false) bus.publish({ type: 'link.registered', nodeId: NODE_ID });
  const sent = () => events.filter((e): e is Extract<BusEvent, { type: 'link.send' }> => e.type === 'link.send').map((e) => e.message);
  return {
    clock,
    registry,
    control,
    audio,
    speech,
    runtime,
    system,
    events,
    errors,
    publish: (event) => bus.publish(event),
    assign: async (job) => {
      bus.publish({ type: 'link.jobAssigned', message: job });
      await clock.advanceAsync(0);
    },
    advance: (ms) => clock.advanceAsync(ms),
    sent,
    sentFor: (jobId) => sent().filter((m) => 'job_id' in m && m.job_id === jobId),
    resultsFor: (jobId) => sent().filter((m): m is JobResult => m.type === 'job_result' && m.job_id === jobId),
    of: <K extends BusEventType>(type: K) => events.filter((e): e is Extract<BusEvent, { type: K }> => e.type === type),
    stop: async () => {
      const stopping = system.stop();
      // Running jobs get jobShutdownMs each; fake time lets the bound pass.
      for (let i = 0; i < 20 && !(await Promise.race([stopping.then(() => true), Promise.resolve(false)])); i++) await clock.advanceAsync(10_000);
      await stopping;
      await runtime.close();
    },
  };
}
