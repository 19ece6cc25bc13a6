/**
 * Sessions and dispatch against a scheduler on a FakeClock: scripted nodes (raw `ws` clients on
 * `/ws/node` that register, become ready and answer jobs as the test says) and raw session clients
 * on `/ws/session`. Node liveness and the socket silence limit are set far beyond any time a test
 * moves, so that only the timers under test fire.
 */
import { createMemoryReservations } from '../../src/adapters/reservations-memory.adapter.js';
import type { ReservationsPort } from '../../src/kernel/ports/reservations.port.js';
import type { SchedulerOptions } from '../../src/cli/start-scheduler.js';
import { joinPlanA } from '../../src/protocol/plan-a.js';
import { LinkClient } from './node-link-client.js';
import type { Message } from './node-link-client.js';
import { heartbeatFrame, registerFrame } from './node-frames.js';
import type { NodeServices } from './node-frames.js';
import { startTestScheduler } from './test-scheduler.js';
import type { TestScheduler } from './test-scheduler.js';

export type { Message } from './node-link-client.js';

/** Scheduler options that keep nodes and sockets alive across long fake-time moves. */
export const LONG_LIVED: SchedulerOptions = { heartbeatTimeoutMs: 3_600_000, wsIdleTimeoutMs: 3_600_000, storeTtlMs: 7_200_000, offlineRetentionMs: 3_600_000 };

export interface DispatchHarness extends TestScheduler {
  reservations: ReservationsPort;
  /** A node registered under `nodeId` and made ready (three healthy heartbeats). */
  readyNode(nodeId: string, options?: { services?: NodeServices; maxConcurrentJobs?: number; runningJobs?: number; epoch?: string }): Promise<ScriptedNode>;
  /** A session client with an acked `session_init`. */
  openSession(init?: Record<string, unknown>): Promise<SessionClient>;
  /** Takes `count` slots of `nodeId` for jobs that are not the dispatcher's. */
  seedSlots(nodeId: string, count: number): Promise<void>;
}

export async function startDispatchHarness(options: SchedulerOptions = {}): Promise<DispatchHarness> {
  const reservations = options.reservations ?? createMemoryReservations();
  const t = await startTestScheduler({ ...LONG_LIVED, ...options, reservations });
  const sessions: SessionClient[] = [];
  let seeds = 0;
  const base = t.stop;
  return Object.assign(t, {
    reservations,
    async readyNode(nodeId: string, o: { services?: NodeServices; maxConcurrentJobs?: number; runningJobs?: number; epoch?: string } = {}) {
      const client = await t.connectNode();
      client.send(registerFrame({ node_id: nodeId, max_concurrent_jobs: o.maxConcurrentJobs ?? 4, ...(o.epoch ? { epoch: o.epoch } : {}) }, o.services));
      await client.nextOfType('node_register_ack');
      const node = new ScriptedNode(client, nodeId, o.services ?? {}, o.runningJobs ?? 0, o.epoch);
      for (let i = 0; i < 3; i++) node.heartbeat();
      await client.nextOfType('node_status');
      return node;
    },
    async openSession(init: Record<string, unknown> = {}) {
      const client = await LinkClient.connect(t.ws('/ws/session'));
      const session = new SessionClient(client, '');
      sessions.push(session);
      await session.init(init);
      return session;
    },
    async seedSlots(nodeId: string, count: number) {
      for (let i = 0; i < count; i++) await reservations.tryReserve({ nodeId, jobId: `seed-${++seeds}`, attemptId: 1 }, 1_000, new AbortController().signal);
    },
    async stop() {
      await Promise.all(sessions.map((s) => s.client.close()));
      await base();
    },
  });
}

/** A node played by the test. */
export class ScriptedNode {
  private seq = 1;

  constructor(
    readonly client: LinkClient,
    readonly nodeId: string,
    private readonly services: NodeServices,
    public runningJobs: number,
    private readonly epoch?: string,
  ) {}

  heartbeat(overrides: Record<string, unknown> = {}): void {
    const frame = heartbeatFrame(this.nodeId, this.seq++, this.services, overrides);
    const usage = frame.resource_usage as Record<string, unknown>;
    usage.running_jobs = this.runningJobs;
    if (this.epoch) frame.epoch = this.epoch;
    this.client.send(frame);
  }

  /** The next `job_assign` (real I/O, bounded). */
  nextAssign(timeoutMs?: number): Promise<Message> {
    return this.client.nextOfType('job_assign', timeoutMs);
  }

  /** Everything received up to now (the scheduler handled all frames sent before). */
  sync(): Promise<Message[]> {
    return this.client.sync();
  }

  ack(job: Message): void {
    this.client.send({ type: 'job_ack', job_id: job.job_id, attempt_id: job.attempt_id, node_id: this.nodeId, session_id: job.session_id, trace_id: job.trace_id });
  }

  /** A `job_result` for `job` (success with texts and audio unless overridden). */
  result(job: Message, overrides: Record<string, unknown> = {}): void {
    this.client.send(resultFrame(job, this.nodeId, overrides));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function resultFrame(job: Message, nodeId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'job_result',
    job_id: job.job_id,
    attempt_id: job.attempt_id,
    node_id: nodeId,
    session_id: job.session_id,
    trace_id: job.trace_id,
    utterance_index: job.utterance_index,
    success: true,
    text_asr: `text ${String(job.utterance_index)}`,
    text_translated: `texto ${String(job.utterance_index)}`,
    tts_audio: 'AwD4//4=',
    tts_format: 'opus',
    extra: { service_timings: { asr_ms: 5, nmt_ms: 3, tts_ms: 4, total_ms: 13 } },
    processing_time_ms: 13,
    ...overrides,
  };
}

/** A client of `/ws/session`. */
export class SessionClient {
  constructor(
    readonly client: LinkClient,
    public sessionId: string,
  ) {}

  static async connect(url: string): Promise<SessionClient> {
    return new SessionClient(await LinkClient.connect(url), '');
  }

  async init(init: Record<string, unknown> = {}): Promise<Message> {
    this.client.send({ type: 'session_init', client_version: 'test-1', platform: 'web', src_lang: 'en', tgt_lang: 'es', ...init });
    const ack = await this.client.nextOfType('session_init_ack');
    this.sessionId = String(ack.session_id);
    return ack;
  }

  send(frame: Record<string, unknown> | string): void {
    this.client.send(frame);
  }

  /** `audio_chunk` of this session. */
  chunk(payload: string, isFinal = false, seq = 0): void {
    this.client.send({ type: 'audio_chunk', session_id: this.sessionId, seq, is_final: isFinal, payload });
  }

  /** An `utterance` of this session. */
  utterance(index: number, audio: string, overrides: Record<string, unknown> = {}): void {
    this.client.send({ type: 'utterance', session_id: this.sessionId, src_lang: 'en', tgt_lang: 'es', audio_format: 'pcm16', utterance_index: index, manual_cut: true, audio, sample_rate: 16_000, ...overrides });
  }

  /** The next message that `match`es; by default the next one that is not a `ui_event`. */
  next(match: (m: Message) => boolean = (m) => m.type !== 'ui_event', timeoutMs?: number): Promise<Message> {
    return this.client.next(match, timeoutMs);
  }

  nextOfType(type: string, timeoutMs?: number): Promise<Message> {
    return this.client.nextOfType(type, timeoutMs);
  }

  /** Messages received before the answer to a probe; `ui_event`s are left out unless asked for. */
  async sync(options: { uiEvents?: boolean } = {}): Promise<Message[]> {
    const all = await this.client.syncWith((m, probe) => m.type === 'error' && m.code === 'INVALID_MESSAGE' && String(m.message).includes(probe));
    return options.uiEvents ? all : all.filter((m) => m.type !== 'ui_event');
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Opus Plan A of `packets` 20 ms silence packets (`F8 FF FE`), base64. */
export function opusSilence(packets: number): string {
  return joinPlanA(Array.from({ length: packets }, () => new Uint8Array([0xf8, 0xff, 0xfe]))).toString('base64');
}

/** pcm16 at 16 kHz of `ms` milliseconds, base64; `fill` is every sample's value. */
export function pcm16(ms: number, fill = 0): string {
  const samples = new Int16Array(ms * 16).fill(fill);
  return Buffer.from(samples.buffer).toString('base64');
}
