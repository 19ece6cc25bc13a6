/**
 * The dispatcher (PROTOCOL.md §5.3–§5.5): turns a session's finalized utterances into jobs and
 * sees each through its attempts.
 *
 * - **Selection**: the job's pool (§5.2, from the registry) → nodes not full and not tried yet →
 *   the session's previous node, else the least loaded (`orderCandidates`) → a slot taken in the
 *   reservations store, which refuses a node already full (two jobs never take one last slot) →
 *   `job_assign` with `attempt_id` + 1.
 * - **Waiting**: a job with no candidate waits in submission order; waiting jobs are retried on
 *   every pool or status change, every freed slot and at least every `noNodeRetryMs`, and fail
 *   with NO_AVAILABLE_NODE after `noNodeTimeoutMs` of waiting.
 * - **Attempts** end by a result, by `jobTimeoutMs` (→ `job_cancel job_timeout`), by the loss of the
 *   node (offline, removed, new epoch), by a failed send, or by the session's socket closing
 *   (→ `job_cancel session_closed`). Every end releases the attempt's slot. Timeouts, node loss and
 *   MODEL_NOT_AVAILABLE / NODE_OVERLOADED results reassign, at most `maxReassignments` times.
 * - **Results** (§5.5): only the job's current attempt on its node counts; the first current result
 *   finishes the job and the index is resolved to the session; the one exception is a complete
 *   result after an empty one of the same attempt, delivered at once.
 *
 * Timers run on the injected clock. The only awaited calls are the reservations store's; a job
 * changed meanwhile (cancelled, its session gone) is checked for after each.
 */
import type { Bus } from '../../kernel/bus.js';
import type { Clock, TimerId } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { DispatchMetricsPort, ReassignReason } from '../../kernel/ports/dispatch-metrics.port.js';
import type { ReservationsPort, SlotKey } from '../../kernel/ports/reservations.port.js';
import type { UtteranceOutcome } from '../../machines/session.machine.js';
import { newJobId } from '../../protocol/index.js';
import type { JobAssign, JobError, JobResult, SchedulerToClientMessage } from '../../protocol/index.js';
import type { DispatchConfig } from './dispatch-options.js';
import type { NodeJobMessage, NodeRegistry } from './node-registry.js';
import { orderCandidates } from './node-selection.js';
import { RunningEstimate } from './running-estimate.js';
import type { SelectionCandidate } from './node-selection.js';
import { queryKey } from './pool-membership.js';
import type { PoolQuery } from './pool-membership.js';
import { isEmptyResult, outcomeOfSuccess, translationResultOf, uiEventOf } from './session-messages.js';

/** One utterance to process, as the session hands it over. */
export interface JobRequest {
  sessionId: string;
  index: number;
  traceId: string;
  /** The `job_assign` without its ids. */
  template: Omit<JobAssign, 'type' | 'job_id' | 'attempt_id'>;
  query: PoolQuery;
  /** When the utterance was finalized, in ms since the epoch. */
  finalizedAt: number;
}

/** Where the dispatcher reaches sessions. */
export interface SessionSink {
  /** The job of `index` is over: its outcome, for the session's result order (§5.6). */
  resolved(sessionId: string, index: number, outcome: UtteranceOutcome, finalizedAt: number): void;
  /** A message for the session's client at once, outside the result order. */
  immediate(sessionId: string, message: SchedulerToClientMessage): void;
}

export type DispatchRegistry = Pick<NodeRegistry, 'eligibleNodes' | 'node' | 'sendToNode'>;

export interface DispatcherDeps {
  registry: DispatchRegistry;
  reservations: ReservationsPort;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: DispatchMetricsPort;
  config: DispatchConfig;
  /** Aborted when the scheduler stops; passed to store calls. */
  signal: AbortSignal;
  /** True while the fleet's shared store is unreachable: a job left without a node fails with SCHEDULER_DEPENDENCY_DOWN. */
  dependencyDown?: () => boolean;
}

export interface DispatcherStatus {
  /** Jobs waiting for a node. */
  queued: number;
  /** Jobs whose current attempt is assigned to a node. */
  inFlight: number;
  /** Slots held per node, as the reservations store has them. */
  reservations: Record<string, number>;
}

type JobState = 'waiting' | 'reserving' | 'assigned' | 'done';

interface Job {
  readonly seq: number;
  readonly jobId: string;
  readonly request: JobRequest;
  state: JobState;
  /** Current attempt; 0 before the first dispatch. */
  attempt: number;
  nodeId: string | undefined;
  readonly tried: Set<string>;
  reassignments: number;
  acked: boolean;
  dispatchedAt: number;
  attemptTimer: TimerId | undefined;
  noNodeTimer: TimerId | undefined;
  /** The failure result that asked for the pending reassignment (forwarded if none is left). */
  lastError: JobError | undefined;
}

/** An empty result's attempt, for which one complete result is still accepted (§5.5). */
interface EmptyFinish {
  nodeId: string;
  attemptId: number;
  sessionId: string;
  until: number;
}

/** Empty-result records kept at most (oldest first out), whatever their age. */
const MAX_EMPTY_FINISHES = 10_000;
/** Finished jobs remembered (oldest first out), to tell a late message of one from a message for no job. */
const MAX_FINISHED_REMEMBERED = 10_000;

export class Dispatcher {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: Job[] = [];
  private readonly bySession = new Map<string, Set<Job>>();
  private readonly byNode = new Map<string, Set<Job>>();
  private readonly previousNode = new Map<string, string>();
  private readonly lastAssignedAt = new Map<string, number>();
  private readonly emptyFinishes = new Map<string, EmptyFinish>();
  private readonly running = new RunningEstimate();
  /** job id → its last attempt, for recently finished jobs. */
  private readonly finished = new Map<string, number>();
  private readonly log: Logger;
  private sink: SessionSink | undefined;
  private seq = 0;
  private inFlight = 0;
  private retryTimer: TimerId | undefined;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.log = deps.logger.child({ actor: 'dispatcher' });
  }

  /** Where resolutions and immediate messages go (the sessions). */
  setSink(sink: SessionSink): void {
    this.sink = sink;
  }

  /** Follows the fleet: pool and status changes retry waiting jobs; node loss reassigns. Returns the dispose. */
  activate(): () => void {
    const { bus } = this.deps;
    const offs = [
      bus.subscribe('pool.membershipChanged', () => this.kick()),
      bus.subscribe('node.statusChanged', (e) => {
        if (e.to === 'offline') this.nodeLost(e.nodeId, `offline: ${e.reason}`);
        else this.kick();
      }),
      bus.subscribe('node.epochChanged', (e) => this.nodeLost(e.nodeId, 'new epoch')),
      // Nodes held by other instances of the fleet.
      bus.subscribe('fleet.nodeLost', (e) => this.nodeLost(e.nodeId, e.why)),
      bus.subscribe('fleet.poolsChanged', () => this.kick()),
      bus.subscribe('node.removed', (e) => {
        this.nodeLost(e.nodeId, 'removed');
        this.lastAssignedAt.delete(e.nodeId);
        this.running.forget(e.nodeId);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Takes one utterance; returns its `job_id`. */
  submit(request: JobRequest): string {
    const job: Job = {
      seq: ++this.seq,
      jobId: newJobId(),
      request,
      state: 'waiting',
      attempt: 0,
      nodeId: undefined,
      tried: new Set(),
      reassignments: 0,
      acked: false,
      dispatchedAt: 0,
      attemptTimer: undefined,
      noNodeTimer: undefined,
      lastError: undefined,
    };
    this.jobs.set(job.jobId, job);
    let ofSession = this.bySession.get(request.sessionId);
    if (!ofSession) this.bySession.set(request.sessionId, (ofSession = new Set()));
    ofSession.add(job);
    this.wait(job);
    return job.jobId;
  }

  /**
   * The session is gone. `cancel` (its socket closed, §6.6 step 4): its attempts in flight get
   * `job_cancel session_closed` and its waiting jobs are dropped, results unsent.
   */
  endSession(sessionId: string, cancel: boolean): void {
    this.previousNode.delete(sessionId);
    const jobs = this.bySession.get(sessionId);
    this.bySession.delete(sessionId);
    if (!cancel || !jobs) return;
    for (const job of jobs) {
      if (job.state === 'assigned') this.cancelAttempt(job, 'session_closed');
      this.retire(job);
    }
  }

  /** Whether a job is in hand or recently finished here (fleet routing). */
  knowsJob = (jobId: string): boolean => this.jobs.has(jobId) || this.finished.has(jobId);
  /** Whether a session has jobs here or was given a node here (fleet routing). */
  hasSession = (sessionId: string): boolean => this.bySession.has(sessionId) || this.previousNode.has(sessionId);

  /** The `job_assign` of an attempt never reached its node (another instance said so): reassigned like a failed send. */
  attemptUndeliverable(jobId: string, attemptId: number, nodeId: string): void {
    const job = this.jobs.get(jobId);
    if (!job || job.state !== 'assigned' || job.attempt !== attemptId || job.nodeId !== nodeId) return;
    this.log.info({ jobId, attemptId, nodeId }, 'job_assign undeliverable on the owner instance; reassigning');
    this.endAttempt(job, 'send_failed');
    this.reassign(job, 'send_failed');
  }

  /** Called with every identity-checked job message of a node (§4.2, §5.5). */
  readonly onNodeMessage = (nodeId: string, message: NodeJobMessage): void => {
    const job = this.jobs.get(message.job_id);
    const assignedHere = job !== undefined && job.state === 'assigned' && job.nodeId === nodeId;
    switch (message.type) {
      case 'asr_partial':
        // §5.5: a partial has no attempt; current when the job is assigned to its sender.
        if (!assignedHere) return this.drop(nodeId, message, job || this.finished.has(message.job_id) ? 'stale' : 'unknown_job');
        this.sink?.immediate(job.request.sessionId, {
          type: 'asr_partial',
          session_id: job.request.sessionId,
          utterance_index: job.request.index,
          job_id: '',
          text: message.text,
          is_final: message.is_final,
          trace_id: job.request.traceId,
        });
        return;
      case 'job_ack':
      case 'job_started':
        if (!assignedHere || job.attempt !== message.attempt_id) return this.drop(nodeId, message, job || this.finished.has(message.job_id) ? 'stale' : 'unknown_job');
        if (message.type === 'job_ack' && !job.acked) {
          job.acked = true;
          this.ui(job, 'NODE_ACCEPTED');
        }
        return;
      case 'job_result':
        if (!assignedHere || job.attempt !== message.attempt_id) return this.lateResult(nodeId, message, job);
        return this.result(job, message);
      default: {
        const never: never = message;
        return never;
      }
    }
  };

  async status(): Promise<DispatcherStatus> {
    const counts = await this.deps.reservations.counts(undefined, this.deps.signal);
    return { queued: this.waiting.length, inFlight: this.inFlight, reservations: Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1))) };
  }

  /** Gauge values, read at each scrape. */
  gauges(): { jobsQueued: number; jobsInFlight: number } {
    return { jobsQueued: this.waiting.length, jobsInFlight: this.inFlight };
  }

  /** Stops every timer and frees every slot; later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.clock.clearTimeout(this.retryTimer);
    const releases: Promise<void>[] = [];
    for (const job of this.jobs.values()) {
      this.clearTimers(job);
      if (job.state === 'assigned' && job.nodeId !== undefined) releases.push(this.deps.reservations.release(this.slot(job), this.deps.signal).catch(() => undefined));
      job.state = 'done';
    }
    this.jobs.clear();
    this.waiting.length = 0;
    await Promise.all(releases);
  }

  // ---- waiting and selection ------------------------------------------------------------------

  private wait(job: Job): void {
    job.state = 'waiting';
    job.nodeId = undefined;
    // Submission order: a reassigned job goes back before later ones.
    let at = this.waiting.length;
    while (at > 0 && this.waiting[at - 1]!.seq > job.seq) at -= 1;
    this.waiting.splice(at, 0, job);
    const { clock, config } = this.deps;
    job.noNodeTimer = clock.setTimeout(() => this.noNode(job), config.noNodeTimeoutMs);
    this.retryTimer ??= clock.setTimeout(this.retryTick, config.noNodeRetryMs);
    this.kick();
  }

  private readonly retryTick = (): void => {
    this.retryTimer = undefined;
    if (this.waiting.length === 0 || this.closed) return;
    this.retryTimer = this.deps.clock.setTimeout(this.retryTick, this.deps.config.noNodeRetryMs);
    this.kick();
  };

  /** Runs the waiting jobs through selection, one pass at a time; a kick during a pass asks for another. */
  private kick(): void {
    if (this.closed || this.waiting.length === 0) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      // A pool found without a candidate for a job that excludes no node has none for the next one either.
      const noCandidate = new Set<string>();
      for (const job of [...this.waiting]) {
        if (job.state !== 'waiting' || this.closed) continue;
        const key = job.tried.size === 0 ? queryKey(job.request.query) : undefined;
        if (key !== undefined && noCandidate.has(key)) continue;
        try {
          if (!(await this.tryDispatch(job)) && key !== undefined) noCandidate.add(key);
        } catch (err) {
          this.log.warn({ err, jobId: job.jobId }, 'reservation store failed; the job keeps waiting');
          if (stateOf(job) === 'reserving') job.state = 'waiting';
        }
      }
    } while (this.pumpAgain && !this.closed);
  }

  /** One try: true when the job left `waiting` (dispatched, or changed meanwhile). */
  private async tryDispatch(job: Job): Promise<boolean> {
    const { registry, reservations, signal } = this.deps;
    const eligible = registry.eligibleNodes(job.request.query).filter((id) => !job.tried.has(id));
    if (eligible.length === 0) return false;
    const counts = await reservations.counts(eligible, signal);
    if (stateOf(job) !== 'waiting') return true;
    const candidates: SelectionCandidate[] = [];
    for (const nodeId of eligible) {
      const view = registry.node(nodeId);
      if (!view?.connected) continue;
      candidates.push({ nodeId, maxConcurrentJobs: view.maxConcurrentJobs, reservations: counts.get(nodeId) ?? 0, runningJobs: this.running.runningNow(nodeId, view), lastAssignedAt: this.lastAssignedAt.get(nodeId) });
    }
    for (const candidate of orderCandidates(candidates, this.previousNode.get(job.request.sessionId))) {
      job.state = 'reserving';
      const key: SlotKey = { nodeId: candidate.nodeId, jobId: job.jobId, attemptId: job.attempt + 1 };
      const taken = await reservations.tryReserve(key, candidate.maxConcurrentJobs, signal);
      // The job may have been cancelled while the store answered.
      if (stateOf(job) !== 'reserving') {
        if (taken) this.releaseSlot(key);
        return true;
      }
      job.state = 'waiting';
      if (taken) {
        this.assign(job, candidate.nodeId);
        return true;
      }
    }
    return false;
  }

  private assign(job: Job, nodeId: string): void {
    const { clock, config, registry } = this.deps;
    this.unwait(job);
    job.attempt += 1;
    job.nodeId = nodeId;
    job.tried.add(nodeId);
    job.state = 'assigned';
    job.acked = false;
    job.dispatchedAt = 0;
    job.lastError = undefined;
    let onNode = this.byNode.get(nodeId);
    if (!onNode) this.byNode.set(nodeId, (onNode = new Set()));
    onNode.add(job);
    this.inFlight += 1;
    const now = clock.now();
    this.lastAssignedAt.set(nodeId, now);
    this.previousNode.set(job.request.sessionId, nodeId);
    const message: JobAssign = { type: 'job_assign', job_id: job.jobId, attempt_id: job.attempt, ...job.request.template };
    if (!registry.sendToNode(nodeId, message)) {
      // §11 NODE_UNAVAILABLE: a failed send is handled as the loss of the node.
      this.log.info({ jobId: job.jobId, attemptId: job.attempt, nodeId }, 'job_assign could not be sent; reassigning');
      this.endAttempt(job, 'send_failed');
      this.reassign(job, 'send_failed');
      return;
    }
    job.dispatchedAt = now;
    job.attemptTimer = clock.setTimeout(() => this.attemptTimedOut(job), config.jobTimeoutMs);
    this.deps.metrics.dispatched();
    this.log.info({ jobId: job.jobId, attemptId: job.attempt, nodeId, sessionId: job.request.sessionId, utteranceIndex: job.request.index }, 'job dispatched');
    this.deps.bus.publish({ type: 'dispatch.assigned', jobId: job.jobId, attemptId: job.attempt, nodeId, sessionId: job.request.sessionId });
    // §5.3: after dispatch the scheduler SHOULD send ui_event DISPATCHED.
    this.ui(job, 'DISPATCHED');
  }

  // ---- ends of attempts -----------------------------------------------------------------------

  private attemptTimedOut(job: Job): void {
    job.attemptTimer = undefined;
    if (job.state !== 'assigned') return;
    this.log.warn({ jobId: job.jobId, attemptId: job.attempt, nodeId: job.nodeId }, 'job timed out on its node; cancelling and reassigning');
    this.cancelAttempt(job, 'job_timeout');
    this.reassign(job, 'job_timeout');
  }

  /** Sends `job_cancel` for the current attempt and ends it. */
  private cancelAttempt(job: Job, reason: 'job_timeout' | 'session_closed'): void {
    if (job.nodeId === undefined) return;
    this.deps.registry.sendToNode(job.nodeId, { type: 'job_cancel', job_id: job.jobId, trace_id: job.request.traceId, reason, attempt_id: job.attempt });
    this.endAttempt(job, reason);
  }

  private nodeLost(nodeId: string, why: string): void {
    const jobs = this.byNode.get(nodeId);
    if (!jobs || jobs.size === 0) return;
    this.log.warn({ nodeId, why, jobs: jobs.size }, 'node lost with jobs in flight; reassigning them');
    for (const job of [...jobs]) {
      this.endAttempt(job, 'node_lost');
      this.reassign(job, 'node_lost');
    }
  }

  /** Ends the current attempt: its timer, its place on the node, its slot. */
  private endAttempt(job: Job, reason: 'job_timeout' | 'session_closed' | 'node_lost' | 'send_failed' | 'reassign_result' | 'result'): void {
    const nodeId = job.nodeId;
    if (nodeId === undefined || job.state !== 'assigned') return;
    this.deps.clock.clearTimeout(job.attemptTimer);
    job.attemptTimer = undefined;
    this.byNode.get(nodeId)?.delete(job);
    if (this.byNode.get(nodeId)?.size === 0) this.byNode.delete(nodeId);
    this.inFlight -= 1;
    job.state = 'waiting';
    job.nodeId = undefined;
    if (job.dispatchedAt > 0) this.running.noteEnded(nodeId, job.dispatchedAt, this.deps.registry.node(nodeId)?.lastHeartbeatAt);
    if (reason !== 'result') this.deps.bus.publish({ type: 'dispatch.attemptEnded', jobId: job.jobId, attemptId: job.attempt, nodeId, reason });
    this.releaseSlot({ nodeId, jobId: job.jobId, attemptId: job.attempt });
  }

  private releaseSlot(key: SlotKey): void {
    this.deps.reservations.release(key, this.deps.signal).then(
      // A freed slot may be what a waiting job needs.
      () => this.kick(),
      (err: unknown) => this.log.error({ err, ...key }, 'could not release a job slot'),
    );
  }

  private reassign(job: Job, reason: ReassignReason): void {
    if (job.reassignments >= this.deps.config.maxReassignments) {
      const attempts = job.attempt;
      // §5.4: a job that would need another reassignment fails; after a failure result, with its error.
      this.fail(job, job.lastError ?? { code: 'JOB_TIMEOUT', message: `Job timed out: no result after ${attempts} attempts`, details: { attempts } });
      return;
    }
    job.reassignments += 1;
    this.deps.metrics.reassigned(reason);
    this.wait(job);
  }

  private noNode(job: Job): void {
    job.noNodeTimer = undefined;
    if (job.state !== 'waiting') return;
    const { query } = job.request;
    const pool = query.mode === 'two_way' ? `${query.langA}:${query.langB}` : `${query.src}:${query.tgt}`;
    if (this.deps.dependencyDown?.()) {
      // §11: a job that would need another instance is refused while the shared store is down.
      this.fail(job, { code: 'SCHEDULER_DEPENDENCY_DOWN', message: `No node of this instance for ${pool}, and the shared store is unreachable`, details: { pool } });
      return;
    }
    this.fail(job, { code: 'NO_AVAILABLE_NODE', message: `No available node for ${pool}`, details: { pool } });
  }

  // ---- results --------------------------------------------------------------------------------

  private result(job: Job, result: JobResult): void {
    const nodeId = job.nodeId!;
    if (!result.success) {
      const error = result.error ?? { code: 'PROCESSING_ERROR', message: 'job failed without an error' };
      // §5.4: a node without the model, or at capacity, is not the job's fault: another node may serve it.
      if (error.code === 'MODEL_NOT_AVAILABLE' || error.code === 'NODE_OVERLOADED') {
        this.log.info({ jobId: job.jobId, attemptId: job.attempt, nodeId, code: error.code }, 'node could not take the job; reassigning');
        this.endAttempt(job, 'reassign_result');
        job.lastError = error;
        this.reassign(job, error.code === 'MODEL_NOT_AVAILABLE' ? 'model_not_available' : 'node_overloaded');
        return;
      }
      this.endAttempt(job, 'result');
      this.fail(job, error);
      return;
    }
    const attemptId = job.attempt;
    this.endAttempt(job, 'result');
    const outcome = outcomeOfSuccess(job.jobId, result);
    if (isEmptyResult(result)) {
      this.emptyFinishes.set(job.jobId, { nodeId, attemptId, sessionId: job.request.sessionId, until: this.deps.clock.now() + this.deps.config.resultDedupeMs });
      this.pruneEmptyFinishes();
    }
    this.finish(job, outcome, 'result');
  }

  /** A job_result that is not current: the §5.5 exception, else dropped. */
  private lateResult(nodeId: string, result: JobResult, job: Job | undefined): void {
    this.pruneEmptyFinishes();
    const empty = this.emptyFinishes.get(result.job_id);
    if (empty && empty.nodeId === nodeId && empty.attemptId === result.attempt_id && result.success && !isEmptyResult(result)) {
      this.emptyFinishes.delete(result.job_id);
      this.log.info({ jobId: result.job_id, attemptId: result.attempt_id, nodeId }, 'complete result after an empty one: delivered at once');
      this.sink?.immediate(empty.sessionId, translationResultOf(empty.sessionId, result, this.deps.clock.now()));
      return;
    }
    const lastAttempt = job?.attempt ?? this.finished.get(result.job_id);
    this.drop(nodeId, result, lastAttempt === undefined ? 'unknown_job' : lastAttempt === result.attempt_id && job === undefined ? 'duplicate' : 'stale');
  }

  private fail(job: Job, error: JobError): void {
    const details = { ...error.details, job_id: job.jobId, utterance_index: job.request.index };
    this.deps.metrics.failed(error.code);
    this.log.warn({ jobId: job.jobId, sessionId: job.request.sessionId, code: error.code }, 'job failed');
    this.ui(job, 'ERROR', error.code);
    this.finish(job, { kind: 'failed', jobId: job.jobId, error: { code: error.code, message: error.message, details } }, 'failed', error.code);
  }

  private finish(job: Job, outcome: UtteranceOutcome, how: 'result' | 'failed', code?: string): void {
    const { sessionId, index, finalizedAt } = job.request;
    this.retire(job);
    this.finished.set(job.jobId, job.attempt);
    if (this.finished.size > MAX_FINISHED_REMEMBERED) this.finished.delete(this.finished.keys().next().value!);
    this.bySession.get(sessionId)?.delete(job);
    this.deps.bus.publish({ type: 'dispatch.resolved', jobId: job.jobId, sessionId, outcome: how, ...(code !== undefined ? { code } : {}) });
    this.sink?.resolved(sessionId, index, outcome, finalizedAt);
  }

  // ---- small pieces ---------------------------------------------------------------------------

  /** Forgets a job: timers, queue, index; its attempt must have ended (or be cancelled) already. */
  private retire(job: Job): void {
    if (job.state === 'assigned') this.endAttempt(job, 'result');
    this.clearTimers(job);
    this.unwait(job);
    job.state = 'done';
    this.jobs.delete(job.jobId);
    if (this.waiting.length === 0) {
      this.deps.clock.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private unwait(job: Job): void {
    this.deps.clock.clearTimeout(job.noNodeTimer);
    job.noNodeTimer = undefined;
    const at = this.waiting.indexOf(job);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  private clearTimers(job: Job): void {
    this.deps.clock.clearTimeout(job.attemptTimer);
    this.deps.clock.clearTimeout(job.noNodeTimer);
    job.attemptTimer = undefined;
    job.noNodeTimer = undefined;
  }

  private slot(job: Job): SlotKey {
    return { nodeId: job.nodeId ?? '', jobId: job.jobId, attemptId: job.attempt };
  }

  private ui(job: Job, event: 'DISPATCHED' | 'NODE_ACCEPTED' | 'ERROR', errorCode?: string): void {
    const { sessionId, traceId, index, finalizedAt } = job.request;
    this.sink?.immediate(
      sessionId,
      uiEventOf({ sessionId, traceId, jobId: job.jobId, index, event, status: errorCode ? 'error' : 'ok', elapsedMs: Math.max(0, this.deps.clock.now() - finalizedAt), ...(errorCode ? { errorCode } : {}) }),
    );
  }

  private drop(nodeId: string, message: NodeJobMessage, reason: 'stale' | 'duplicate' | 'unknown_job'): void {
    this.deps.metrics.dropped(reason);
    const attemptId = 'attempt_id' in message ? message.attempt_id : undefined;
    this.log.info({ nodeId, jobId: message.job_id, type: message.type, attemptId, reason }, 'job message dropped: not the current attempt');
    this.deps.bus.publish({ type: 'dispatch.dropped', jobId: message.job_id, nodeId, messageType: message.type, ...(attemptId !== undefined ? { attemptId } : {}), reason });
  }

  private pruneEmptyFinishes(): void {
    const now = this.deps.clock.now();
    for (const [jobId, entry] of this.emptyFinishes) {
      if (entry.until >= now && this.emptyFinishes.size <= MAX_EMPTY_FINISHES) break;
      this.emptyFinishes.delete(jobId);
    }
  }
}

/** A job's state, read afresh after an await (the compiler would keep the narrowing from before it). */
const stateOf = (job: Job): JobState => job.state;
