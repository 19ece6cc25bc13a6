/**
 * The node's `jobs` supervisor: one `job:<job_id>` child (a temporary one: never restarted) per
 * accepted `job_assign` (ARCHITECTURE.md flow 3, PROTOCOL.md §8).
 *
 * Bus contract:
 * - consumes `link.jobAssigned` (runs the acceptance checks of §8.2, then starts the job or answers
 *   a refusal `job_result`), `link.jobCancelled` (§2.11: the matching attempt stops and sends no
 *   result), `link.registered` / `link.disconnected` (the node id, and check 1), and
 *   `service.statusChanged` (a service that left `running` loses its kept connections);
 * - publishes `job.assigned` for every accepted job, and forwards what each job emits:
 *   `link.send` (job_ack, job_started, job_result) and `job.finished`.
 *
 * When the link drops, running jobs are cancelled: the scheduler reassigns a lost node's jobs at
 * once (§5.4), and a result could not be sent anyway.
 */
import type { AnyActorRef } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import type { BusEventOf } from '../../kernel/bus-events.js';
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { AudioPort } from '../../kernel/ports/audio.port.js';
import type { ServiceControlPort, ServiceRegistryPort } from '../../kernel/ports/service-registry.port.js';
import type { SpeechPort } from '../../kernel/ports/speech.port.js';
import { supervisorChild } from '../../kernel/supervisor.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { jobResultOf, NO_STAGE_TIME, overloadedError, processingError } from '../../machines/job-messages.js';
import { planJob } from '../../machines/job-plan.js';
import type { JobEmitted, JobInput } from '../../machines/job.machine.js';
import type { JobAssign, JobCancel, JobError } from '../../protocol/node-jobs.schema.js';
import { JobBook, refusalOf, utteranceKeyOf } from './job-acceptance.js';
import { jobLogic, ServiceLoad } from './job.actor.js';
import type { JobsOptions } from './jobs-options.js';

export interface JobsActorOptions {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  registry: ServiceRegistryPort;
  control: ServiceControlPort;
  audio: AudioPort;
  speech: SpeechPort;
  options: JobsOptions;
}

/** A job being processed, as `/status` and tests see it. */
export interface RunningJob {
  jobId: string;
  attemptId: number;
  sessionId: string;
  utteranceIndex: number;
  receivedAtMs: number;
}

export interface JobsActor {
  /** The `jobs` supervisor, a child of the node's root. */
  childSpec(): ChildSpecInput;
  /** Jobs being processed now (`resource_usage.running_jobs`, §2.1). */
  runningJobs(): number;
  list(): RunningJob[];
  /** Versions of `serviceId` that jobs are calling now (§10.9: never removed under a running call). */
  inUseVersions(serviceId: string): ReadonlySet<string>;
  /** Releases the bus subscriptions of the process-wide link view. */
  dispose(): void;
}

interface Entry extends RunningJob {
  ref: AnyActorRef | undefined;
  /** The job reached an end of its own (a result sent, or cancelled). */
  ended: boolean;
}

/** Lifecycle states in which a service still takes calls; leaving them drops its connections. */
const CALLABLE_STATES = new Set(['running', 'starting']);

export function createJobsActor(options: JobsActorOptions): JobsActor {
  const { bus, clock, options: settings } = options;
  const log = options.logger.child({ actor: 'jobs' });
  const book = new JobBook({ retentionMs: settings.dedupeRetentionMs, maxEntries: settings.maxDedupeEntries });
  const load = new ServiceLoad();
  const running = new Map<string, Entry>();
  const ports = { registry: options.registry, control: options.control, audio: options.audio, speech: options.speech, load, logger: options.logger };
  const logic = jobLogic(ports);
  const timeouts = { asrMs: settings.asrTimeoutMs, nmtMs: settings.nmtTimeoutMs, ttsMs: settings.ttsTimeoutMs, deadlineMs: settings.jobTimeoutMs - settings.deadlineMarginMs };

  let nodeId: string | undefined;

  const cancelAll = (reason: string) => {
    for (const entry of running.values()) entry.ref?.send({ type: 'job.cancel', reason });
  };

  // The link as last announced, kept across restarts of the supervisor (like the heartbeat's view).
  const viewSubscriptions = [
    bus.subscribe('link.registered', (event) => {
      nodeId = event.nodeId;
    }),
    bus.subscribe('link.disconnected', (event) => {
      nodeId = undefined;
      if (running.size > 0) log.info({ cause: event.cause, jobs: running.size }, 'link lost; cancelling running jobs (the scheduler reassigns them)');
      cancelAll('link_lost');
    }),
    bus.subscribe('service.statusChanged', (event) => {
      if (!CALLABLE_STATES.has(event.state)) options.speech.forget(event.serviceId);
    }),
  ];

  const refuse = (job: JobAssign, node: string, error: JobError, receivedAtMs: number) => {
    log.info({ jobId: job.job_id, attemptId: job.attempt_id, code: error.code }, 'job refused');
    const message = jobResultOf(job, node, { success: false, ttsFormat: planJob(job).ttsFormat, error, timings: NO_STAGE_TIME, receivedAtMs, completedAtMs: clock.now() });
    bus.publish({ type: 'link.send', message });
  };

  /** Forwards a job's emitted events to the bus, and answers for a job that died without a result. */
  const attachJob = (entry: Entry, job: JobAssign, node: string) => (ref: AnyActorRef) => {
    entry.ref = ref;
    const subscription = ref.on('*', (event: JobEmitted) => {
      if (event.type === 'job.finished') entry.ended = true;
      bus.publish(event);
    });
    return () => {
      subscription.unsubscribe();
      running.delete(job.job_id);
      const status = (ref.getSnapshot() as { status?: string } | undefined)?.status;
      // A job that failed inside (a defect) still owes its one result; one stopped by force at
      // shutdown does not: the scheduler reassigns the jobs of a node that goes away (§5.4).
      if (!entry.ended && status === 'error') {
        log.error({ jobId: job.job_id }, 'job actor failed; answering PROCESSING_ERROR');
        refuse(job, node, processingError('internal error while processing the job', { reason: 'internal' }), entry.receivedAtMs);
        bus.publish({ type: 'job.finished', jobId: job.job_id, attemptId: job.attempt_id, success: false, code: 'PROCESSING_ERROR', totalMs: clock.now() - entry.receivedAtMs });
      }
    };
  };

  const onAssign = (supervisor: AnyActorRef, job: JobAssign) => {
    // §8.2 check 1: only while registered on an open socket (the link drops earlier ones too).
    if (nodeId === undefined) {
      log.debug({ jobId: job.job_id }, 'job_assign while not registered; ignored');
      return;
    }
    const node = nodeId;
    const receivedAtMs = clock.now();
    book.prune(receivedAtMs);
    const accepting = (supervisor.getSnapshot() as { value?: unknown }).value === 'running';
    const refusal = accepting
      ? refusalOf(job, { book, runningJobs: running.size, maxConcurrentJobs: settings.maxConcurrentJobs, services: options.registry.list() })
      : overloadedError(running.size, settings.maxConcurrentJobs, 'shutting_down');
    book.recordJob(job.job_id, receivedAtMs);
    if (refusal) {
      refuse(job, node, refusal, receivedAtMs);
      return;
    }
    book.recordUtterance(utteranceKeyOf(job), job.job_id, receivedAtMs);
    const entry: Entry = { jobId: job.job_id, attemptId: job.attempt_id, sessionId: job.session_id, utteranceIndex: job.utterance_index, receivedAtMs, ref: undefined, ended: false };
    running.set(job.job_id, entry);
    log.info({ jobId: job.job_id, attemptId: job.attempt_id, sessionId: job.session_id, utteranceIndex: job.utterance_index, running: running.size }, 'job accepted');
    bus.publish({ type: 'job.assigned', jobId: job.job_id, attemptId: job.attempt_id });
    const input: JobInput = { job, nodeId: node, clock, timeouts, receivedAtMs };
    supervisor.send({
      type: 'supervisor.startChild',
      spec: {
        id: `job:${job.job_id}`,
        logic,
        input,
        restart: 'temporary',
        shutdownMs: settings.jobShutdownMs,
        attach: attachJob(entry, job, node),
      } satisfies ChildSpecInput,
    });
  };

  const onCancel = (message: JobCancel) => {
    const entry = running.get(message.job_id);
    // §2.11 [ext]: a cancel names the attempt it is for; without one it stops whichever runs.
    if (!entry || (message.attempt_id != null && message.attempt_id !== entry.attemptId)) {
      log.debug({ jobId: message.job_id, attemptId: message.attempt_id }, 'job_cancel for no running attempt; ignored');
      return;
    }
    log.info({ jobId: message.job_id, attemptId: entry.attemptId, reason: message.reason }, 'job cancelled by the scheduler');
    entry.ref?.send({ type: 'job.cancel', ...(message.reason != null ? { reason: message.reason } : {}) });
  };

  return {
    childSpec: () =>
      supervisorChild(
        { id: 'jobs', strategy: 'one_for_one', clock },
        {
          restart: 'permanent',
          // Each job gets jobShutdownMs in turn; most have ended on their own by then.
          shutdownMs: settings.jobShutdownMs + 5_000,
          attach: (supervisor: AnyActorRef) => {
            const unsubscribe = [
              bus.subscribe('link.jobAssigned', (event: BusEventOf<'link.jobAssigned'>) => onAssign(supervisor, event.message)),
              bus.subscribe('link.jobCancelled', (event: BusEventOf<'link.jobCancelled'>) => onCancel(event.message)),
            ];
            return () => {
              unsubscribe.forEach((u) => u());
              // This incarnation is gone, and its jobs with it: after a normal stop they have all ended;
              // after a failure XState stopped them without their own detach running.
              running.clear();
            };
          },
        },
      ),
    runningJobs: () => running.size,
    inUseVersions: (serviceId) => load.versionsInUse(serviceId),
    list: () => [...running.values()].map(({ jobId, attemptId, sessionId, utteranceIndex, receivedAtMs }) => ({ jobId, attemptId, sessionId, utteranceIndex, receivedAtMs })),
    dispose: () => viewSubscriptions.forEach((u) => u()),
  };
}
