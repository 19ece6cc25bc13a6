/**
 * `createJobsRuntime(options)`: the node's job processing, composed — the `audio` child (the
 * Piscina pool of decode, VAD and encode workers), the `jobs` supervisor (one `job:<job_id>` per
 * accepted job) and the speech services client. It picks the real adapters unless given others.
 *
 * ```
 * node
 * ├ …
 * ├ audio   systemId `audio`: the pool is started with the node and closed after the jobs
 * └ jobs    supervisor: job:<job_id> (temporary)
 * ```
 *
 * The children go into the node's tree in this order, so that shutdown stops the jobs first, then
 * the audio pool. `close()` runs after the tree has stopped: it drops the bus subscriptions and the
 * kept connections to the services. The node id comes from `link.registered` on `bus`.
 */
import { fromPromise } from 'xstate';
import { startAudioPool } from '../adapters/audio-pool.adapter.js';
import type { AudioPool, AudioPoolOptions } from '../adapters/audio-pool.adapter.js';
import { createSpeechHttpAdapter } from '../adapters/speech-http.adapter.js';
import type { SpeechHttpOptions } from '../adapters/speech-http.adapter.js';
import { createJobsActor } from '../actors/node/jobs.actor.js';
import type { RunningJob } from '../actors/node/jobs.actor.js';
import { resolveJobsOptions } from '../actors/node/jobs-options.js';
import type { JobsOptions } from '../actors/node/jobs-options.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { AUDIO_ERROR_CODES } from '../kernel/ports/audio.port.js';
import type { AudioPort } from '../kernel/ports/audio.port.js';
import type { ServiceControlPort, ServiceRegistryPort } from '../kernel/ports/service-registry.port.js';
import type { SpeechPort } from '../kernel/ports/speech.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';
import { SYSTEM_IDS } from '../kernel/system.js';
import { serverMachine } from '../machines/server.machine.js';

export interface JobsRuntimeOptions {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  registry: ServiceRegistryPort;
  control: ServiceControlPort;
  /** The node's `max_concurrent_jobs` (§2.2); wins over `jobs.maxConcurrentJobs`. Default 4. */
  maxConcurrentJobs?: number;
  /** Other job settings (timeouts, deadline, dedupe retention). */
  jobs?: Partial<JobsOptions>;
  /** Options of the real audio pool (ignored when `audio` is given). */
  audioPool?: Partial<AudioPoolOptions>;
  /** An audio port of your own, already started (tests); the runtime then has no `audio` child and does not close it. */
  audio?: AudioPort;
  /** Options of the real speech client (ignored when `speech` is given). */
  speechHttp?: Partial<SpeechHttpOptions>;
  /** A speech port of your own (tests); closed by `close()` all the same. */
  speech?: SpeechPort;
}

export interface JobsRuntime {
  /** `audio` (unless an audio port was given) then `jobs`, for the node's root supervisor. */
  children: ChildSpecInput[];
  /** Jobs being processed now (heartbeats, `/status`). */
  runningJobs(): number;
  list(): RunningJob[];
  /** Versions of a service that jobs are calling now (the package manager's `inUseVersions`). */
  inUseVersions(serviceId: string): ReadonlySet<string>;
  /** After the tree has stopped: drops the bus subscriptions and closes the speech connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * An audio port that forwards to the pool the `audio` child holds. While the child is (re)starting
 * its pool, tasks wait for it — bounded by their own signal, which a job's deadline aborts; once the
 * child has stopped for good, they fail with AUDIO_POOL_CLOSED.
 */
class PooledAudio implements AudioPort {
  private pool: AudioPool | undefined;
  private stopped = false;
  private readonly waiters = new Set<{ resolve: (pool: AudioPool) => void; reject: (error: unknown) => void }>();

  /** The child opened a pool. */
  open(pool: AudioPool): void {
    this.pool = pool;
    this.stopped = false;
    for (const waiter of this.waiters) waiter.resolve(pool);
    this.waiters.clear();
  }

  /** The child closes its pool: for good (`stopped`) or to be restarted. */
  async release(stopped: boolean): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.stopped = stopped;
    if (stopped) {
      for (const waiter of this.waiters) waiter.reject(new KernelError(AUDIO_ERROR_CODES.closed, 'the audio pool stopped'));
      this.waiters.clear();
    }
    await pool?.close();
  }

  private current(signal: AbortSignal): Promise<AudioPool> {
    if (this.pool) return Promise.resolve(this.pool);
    if (this.stopped) return Promise.reject(new KernelError(AUDIO_ERROR_CODES.closed, 'the audio pool stopped'));
    return new Promise<AudioPool>((resolve, reject) => {
      const waiter = {
        resolve: (pool: AudioPool) => {
          signal.removeEventListener('abort', onAbort);
          resolve(pool);
        },
        reject,
      };
      const onAbort = () => {
        this.waiters.delete(waiter);
        reject(new AbortedError('aborted while waiting for the audio pool', { cause: signal.reason }));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  decode: AudioPort['decode'] = async (input, signal) => (await this.current(signal)).decode(input, signal);
  detectSpeech: AudioPort['detectSpeech'] = async (input, signal) => (await this.current(signal)).detectSpeech(input, signal);
  prepare: AudioPort['prepare'] = async (input, signal) => (await this.current(signal)).prepare(input, signal);
  encode: AudioPort['encode'] = async (input, signal) => (await this.current(signal)).encode(input, signal);
  close = (): Promise<void> => this.release(true);
}

function audioChild(audio: PooledAudio, options: JobsRuntimeOptions): ChildSpecInput {
  const log = options.logger.child({ actor: SYSTEM_IDS.audio });
  const logic = serverMachine.provide({
    actors: {
      open: fromPromise(async ({ signal }) => {
        const pool = await startAudioPool(options.audioPool ?? {}, { logger: options.logger, clock: options.clock }).catch((err: unknown) => {
          log.error({ err }, 'audio workers could not start');
          throw err;
        });
        if (signal.aborted) {
          await pool.close();
          throw new AbortedError('node stopped while the audio workers were starting');
        }
        audio.open(pool);
        log.info({ threads: pool.threads }, 'audio workers ready');
        // A close by the server machine is a stop (the supervisor restarts a child that failed, not one it stops).
        return { close: () => audio.release(true) };
      }),
    },
  });
  return {
    id: SYSTEM_IDS.audio,
    systemId: SYSTEM_IDS.audio,
    logic,
    restart: 'permanent',
    maxRestarts: 3,
    withinMs: 60_000,
    minBackoffMs: 1_000,
    maxBackoffMs: 10_000,
    // The pool's own close bound (closeTimeoutMs, 5 s by default) plus the thread teardown.
    shutdownMs: (options.audioPool?.closeTimeoutMs ?? 5_000) + 5_000,
  };
}

export function createJobsRuntime(options: JobsRuntimeOptions): JobsRuntime {
  const settings = resolveJobsOptions({ ...options.jobs, ...(options.maxConcurrentJobs !== undefined ? { maxConcurrentJobs: options.maxConcurrentJobs } : {}) });
  const pooled = options.audio ? undefined : new PooledAudio();
  const speech = options.speech ?? createSpeechHttpAdapter(options.speechHttp ?? {}, { logger: options.logger });
  const jobs = createJobsActor({
    bus: options.bus,
    clock: options.clock,
    logger: options.logger,
    registry: options.registry,
    control: options.control,
    audio: options.audio ?? pooled!,
    speech,
    options: settings,
  });
  let closing: Promise<void> | undefined;
  return {
    children: [...(pooled ? [audioChild(pooled, options)] : []), jobs.childSpec()],
    runningJobs: () => jobs.runningJobs(),
    list: () => jobs.list(),
    inUseVersions: (serviceId) => jobs.inUseVersions(serviceId),
    close: () => {
      closing ??= (async () => {
        jobs.dispose();
        await Promise.allSettled([speech.close(), pooled?.close()]);
      })();
      return closing;
    },
  };
}
