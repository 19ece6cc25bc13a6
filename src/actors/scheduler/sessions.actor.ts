/**
 * The `sessions` supervisor and its `session:<id>` children (PROTOCOL.md §6): one session machine
 * per client session, bound to the connection that created it. This module wires each machine to
 * the world — what it emits goes to the client (results, in order) or to the dispatcher (jobs) —
 * and is the dispatcher's `SessionSink`: resolutions go into the machine, immediate messages
 * (`ui_event`, `asr_partial`) straight to the client.
 *
 * A session ends in two ways. Closed (by the client, a re-init or the idle timeout) it keeps
 * delivering the results of its jobs while its socket is open, and leaves once drained. Its socket
 * closing ends it at once: jobs in flight are cancelled (`job_cancel session_closed`, §6.6 step 4).
 */
import type { AnyActorRef } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { DispatchMetricsPort } from '../../kernel/ports/dispatch-metrics.port.js';
import type { LinkConnection } from '../../kernel/ports/link.port.js';
import { supervisorChild } from '../../kernel/supervisor.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { sessionMachine } from '../../machines/session.machine.js';
import type { SessionCloseReason, SessionEmitted, SessionEvent, SessionInput, UtteranceJob, UtteranceOutcome } from '../../machines/session.machine.js';
import { encodeBase64, encodeFrame, newSessionId, newUuid } from '../../protocol/index.js';
import type { SchedulerToClientMessage } from '../../protocol/index.js';
import type { DispatchConfig } from './dispatch-options.js';
import type { Dispatcher, SessionSink } from './dispatcher.js';
import { jobTemplateOf, poolQueryOf } from './session-settings.js';
import type { SessionSettings } from './session-settings.js';
import { missingResultOf, sessionErrorOf, translationResultOf } from './session-messages.js';

export interface SessionsDeps {
  dispatcher: Dispatcher;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metrics: DispatchMetricsPort;
  config: DispatchConfig;
}

/** One session, open or draining. */
export interface SessionEntry {
  readonly settings: SessionSettings;
  readonly conn: LinkConnection;
  ref: AnyActorRef | undefined;
  /** Events sent before the actor was attached. */
  pending: SessionEvent[] | undefined;
  closed: boolean;
}

/** What a client connection holds. */
interface ConnectionSessions {
  /** The open session (at most one: a second `session_init` closes the first, §6.1). */
  current: SessionEntry | undefined;
  /** Its sessions still running: open, or closed and draining. */
  live: Set<SessionEntry>;
  /** Recently ended session ids, for SESSION_CLOSED answers (bounded). */
  ended: string[];
}

/** How a message names a session, from the connection's point of view (§6). */
export type SessionLookup = { kind: 'open'; entry: SessionEntry } | { kind: 'closed' } | { kind: 'unknown' };

export class Sessions implements SessionSink {
  private readonly entries = new Map<string, SessionEntry>();
  private readonly connections = new Map<string, ConnectionSessions>();
  private readonly log: Logger;
  private supervisor: AnyActorRef | undefined;
  private open = 0;
  private stopping = false;

  constructor(private readonly deps: SessionsDeps) {
    this.log = deps.logger.child({ actor: 'sessions' });
  }

  /** The `sessions` supervisor, a child of the scheduler's root. */
  childSpec(): ChildSpecInput {
    return supervisorChild(
      { id: 'sessions', strategy: 'one_for_one', clock: this.deps.clock },
      {
        restart: 'permanent',
        shutdownMs: 5_000,
        attach: (ref: AnyActorRef) => {
          this.supervisor = ref;
          return () => {
            if (this.supervisor === ref) this.supervisor = undefined;
            // Its sessions went with it. Outside a shutdown, their clients must start over.
            for (const entry of this.entries.values()) {
              entry.ref = undefined;
              if (!this.stopping) entry.conn.close(1011, 'internal_error');
            }
          };
        },
      },
    );
  }

  /** Sessions not closed, over every connection. */
  openCount(): number {
    return this.open;
  }

  beginShutdown(): void {
    this.stopping = true;
  }

  // ---- the link's side ------------------------------------------------------------------------

  connectionOpened(conn: LinkConnection): void {
    this.connections.set(conn.id, { current: undefined, live: new Set(), ended: [] });
  }

  /** The socket closed: its sessions end now, their jobs in flight cancelled (§6.6 step 4). */
  connectionClosed(conn: LinkConnection): void {
    const state = this.connections.get(conn.id);
    this.connections.delete(conn.id);
    if (!state) return;
    for (const entry of state.live) {
      if (!entry.closed) this.markClosed(entry, 'socket_closed');
      this.remove(entry, true);
    }
  }

  lookup(conn: LinkConnection, sessionId: string): SessionLookup {
    const entry = this.entries.get(sessionId);
    if (entry && entry.conn === conn) return entry.closed ? { kind: 'closed' } : { kind: 'open', entry };
    // §6: a session of another socket does not exist for this one.
    return this.connections.get(conn.id)?.ended.includes(sessionId) ? { kind: 'closed' } : { kind: 'unknown' };
  }

  /** `session_init`: closes the connection's open session (reason `reinit`) and starts a new one. */
  start(conn: LinkConnection, settings: Omit<SessionSettings, 'sessionId'>): SessionSettings {
    const state = this.connections.get(conn.id);
    if (!state) throw new Error('session started on a connection that is not open');
    if (state.current) this.send(state.current, { type: 'session.close', reason: 'reinit' });
    let sessionId = newSessionId();
    while (this.entries.has(sessionId)) sessionId = newSessionId();
    const entry: SessionEntry = { settings: { ...settings, sessionId }, conn, ref: undefined, pending: undefined, closed: false };
    this.entries.set(sessionId, entry);
    state.current = entry;
    state.live.add(entry);
    this.open += 1;
    const c = this.deps.config;
    const input: SessionInput = {
      audioFormat: settings.audioFormat,
      sampleRate: settings.sampleRate,
      newTurnId: newUuid,
      options: {
        pauseMs: c.pauseMs,
        maxDurationMs: c.maxDurationMs,
        maxBufferBytes: c.maxBufferBytes,
        paddingManualMs: c.paddingManualMs,
        paddingAutoMs: c.paddingAutoMs,
        idleTimeoutMs: c.sessionIdleTimeoutMs,
        resultGapGraceMs: c.resultGapGraceMs,
        maxPendingResults: c.maxPendingResults,
      },
    };
    if (!this.supervisor) throw new Error('sessions supervisor is not running');
    this.supervisor.send({
      type: 'supervisor.startChild',
      spec: { id: `session:${sessionId}`, logic: sessionMachine, input, restart: 'temporary', shutdownMs: 1_000, attach: this.attach(entry) } satisfies ChildSpecInput,
    });
    this.log.info({ sessionId, conn: conn.id, audioFormat: settings.audioFormat, src: settings.srcLang, tgt: settings.tgtLang, mode: settings.mode }, 'session opened');
    this.deps.bus.publish({ type: 'session.opened', sessionId });
    return entry.settings;
  }

  /** An event for an open session's machine. */
  send(entry: SessionEntry, event: SessionEvent): void {
    if (entry.ref) entry.ref.send(event);
    else (entry.pending ??= []).push(event);
  }

  // ---- the dispatcher's side (SessionSink) ----------------------------------------------------

  resolved(sessionId: string, index: number, outcome: UtteranceOutcome, finalizedAt: number): void {
    const entry = this.entries.get(sessionId);
    if (entry) this.send(entry, { type: 'session.resolved', index, outcome, finalizedAt });
  }

  immediate(sessionId: string, message: SchedulerToClientMessage): void {
    const entry = this.entries.get(sessionId);
    if (entry) entry.conn.send(encodeFrame(message));
  }

  // ---- the machine's side ---------------------------------------------------------------------

  private attach(entry: SessionEntry) {
    return (ref: AnyActorRef) => {
      entry.ref = ref;
      const subscription = ref.on('*', (event: SessionEmitted) => this.emitted(entry, event));
      const pending = entry.pending ?? [];
      entry.pending = undefined;
      // Attach runs before the actor starts: events sent now wait in its mailbox, in order.
      for (const event of pending) ref.send(event);
      return () => {
        subscription.unsubscribe();
        if (entry.ref === ref) entry.ref = undefined;
        if ((ref.getSnapshot() as { status?: string } | undefined)?.status === 'error') this.failed(entry);
      };
    };
  }

  private emitted(entry: SessionEntry, event: SessionEmitted): void {
    try {
      this.handle(entry, event);
    } catch (err) {
      // Called from inside the machine's transition: an exception there would fail the actor.
      this.log.error({ err, sessionId: entry.settings.sessionId, event: event.type }, 'session event handler failed');
    }
  }

  private handle(entry: SessionEntry, event: SessionEmitted): void {
    const { sessionId } = entry.settings;
    switch (event.type) {
      case 'session.dispatch':
        this.dispatch(entry, event.job);
        return;
      case 'session.deliver':
        this.deliver(entry, event);
        return;
      case 'session.resultDropped':
        this.log.debug({ sessionId, utteranceIndex: event.index }, 'result for an index already resolved: dropped');
        return;
      case 'session.utteranceIgnored':
        this.log.debug({ sessionId, utteranceIndex: event.index }, 'utterance index already dispatched or skipped: ignored');
        return;
      case 'session.closed':
        this.closedByMachine(entry, event.reason);
        return;
      case 'session.drained':
        this.remove(entry, false);
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  private dispatch(entry: SessionEntry, job: UtteranceJob): void {
    const settings = entry.settings;
    const audio = job.audio.kind === 'base64' ? job.audio.base64 : encodeBase64(job.audio.bytes);
    const template = jobTemplateOf(settings, job, audio);
    this.deps.dispatcher.submit({
      sessionId: settings.sessionId,
      index: job.index,
      traceId: template.trace_id,
      template,
      query: poolQueryOf(settings, template.pipeline),
      finalizedAt: this.deps.clock.now(),
    });
  }

  private deliver(entry: SessionEntry, event: Extract<SessionEmitted, { type: 'session.deliver' }>): void {
    const { sessionId, traceId } = entry.settings;
    const now = this.deps.clock.now();
    let message: SchedulerToClientMessage;
    switch (event.outcome.kind) {
      case 'result':
        message = translationResultOf(sessionId, event.outcome.result, now);
        if (event.finalizedAt !== undefined) this.deps.metrics.latency(now - event.finalizedAt);
        break;
      case 'silence':
        message = missingResultOf(sessionId, event.index, 'silence_detected', now, traceId);
        break;
      case 'missing':
        message = missingResultOf(sessionId, event.index, event.outcome.reason, now, traceId);
        break;
      case 'failed':
        message = sessionErrorOf(event.outcome.error);
        break;
      default: {
        const never: never = event.outcome;
        return never;
      }
    }
    entry.conn.send(encodeFrame(message));
  }

  private closedByMachine(entry: SessionEntry, reason: SessionCloseReason): void {
    this.markClosed(entry, reason);
    if (reason === 'idle_timeout') {
      const sessionId = entry.settings.sessionId;
      // §6.6: never dropped silently; the socket stays open.
      const error: SchedulerToClientMessage = { type: 'error', code: 'SESSION_CLOSED', message: 'Session closed: idle timeout', details: { session_id: sessionId } };
      entry.conn.send(encodeFrame(error));
    }
  }

  /** The session's machine failed (a defect): the client is told, and the session ends with its jobs. */
  private failed(entry: SessionEntry): void {
    const sessionId = entry.settings.sessionId;
    this.log.error({ sessionId }, 'session machine failed; closing the session');
    const error: SchedulerToClientMessage = { type: 'error', code: 'INTERNAL_ERROR', message: 'Session failed inside the scheduler and was closed', details: { session_id: sessionId } };
    entry.conn.send(encodeFrame(error));
    this.markClosed(entry, 'internal_error');
    this.remove(entry, true);
  }

  private markClosed(entry: SessionEntry, reason: string): void {
    if (entry.closed) return;
    entry.closed = true;
    this.open -= 1;
    const state = this.connections.get(entry.conn.id);
    if (state?.current === entry) state.current = undefined;
    this.log.info({ sessionId: entry.settings.sessionId, reason }, 'session closed');
    this.deps.bus.publish({ type: 'session.closed', sessionId: entry.settings.sessionId, reason });
  }

  /** The session leaves: its actor stops; `cancel` cancels its jobs in flight. */
  private remove(entry: SessionEntry, cancel: boolean): void {
    const { sessionId } = entry.settings;
    if (this.entries.get(sessionId) !== entry) return;
    this.entries.delete(sessionId);
    this.deps.dispatcher.endSession(sessionId, cancel);
    const state = this.connections.get(entry.conn.id);
    if (state) {
      state.live.delete(entry);
      state.ended.push(sessionId);
      if (state.ended.length > this.deps.config.maxClosedSessionsPerConnection) state.ended.shift();
    }
    const supervisor = this.supervisor;
    // Deferred: the caller may be inside the session's own transition (its `session.drained`).
    if (supervisor && !this.stopping) queueMicrotask(() => supervisor.send({ type: 'supervisor.terminateChild', id: `session:${sessionId}` }));
  }
}
