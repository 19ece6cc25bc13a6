/**
 * One client session (`session:<id>`, PROTOCOL.md §6): segmentation of the `audio_chunk` path
 * (§6.4), the dispatch cursor of the `utterance` path (§6.5), the result cursor (§5.6), the TTS
 * playback window and the idle timeout (§6.6). Pure: the machine receives decoded, measured input
 * from the session link and resolutions from the dispatcher, and emits
 * - `session.dispatch`: an utterance to turn into a job, with its index, flags, padding and turn;
 * - `session.deliver`: what the client gets for an index, in index order (a result, silence, an
 *   error, or a missing index);
 * - `session.closed` (by the client, a re-init or the idle timeout) and, once nothing it started is
 *   left, `session.drained`.
 *
 * Each event is one pure step (`reactTo`) over the context; the four timers (pause, idle, result
 * gap, utterance gap) are delayed events raised with an id and cancelled by id, on the actor
 * system's clock. Events carry their arrival time where a rule compares times (§6.4 [fix]).
 */
import { enqueueActions, setup } from 'xstate';
import type { Pipeline } from '../protocol/common.schema.js';
import { appendChunk, EMPTY_SEGMENTER, finalize, pauseWanted, playbackEnded, playbackStarted } from './session-segmenter.js';
import type { FinalizeReason, FinalizedAudio, SegmenterOptions, SegmenterState, SegmentFlags } from './session-segmenter.js';
import { declareGapMissing, EMPTY_RESULT_ORDER, emptyCursor, offer, resolveIndex, skipGap, takeNext } from './session-order.js';
import type { CursorStep, DispatchCursor, HeldOutcome, Released, ResultOrder, UtteranceOutcome } from './session-order.js';

export type { UtteranceOutcome, MissingReason } from './session-order.js';

export interface SessionTimingOptions extends SegmenterOptions {
  /** No client message and no job in flight for this long closes the session, in ms (`session_idle_timeout_ms`). */
  idleTimeoutMs: number;
  /** Grace of a gap in results or utterances before its indices are declared missing, in ms (`result_gap_grace_ms`). */
  resultGapGraceMs: number;
  /** Held results (and waiting utterances) beyond which the gap below them is given up (`max_pending_results`). */
  maxPendingResults: number;
}

export interface SessionInput {
  /** The negotiated format of `audio_chunk` payloads (§6.2). */
  audioFormat: 'opus' | 'pcm16';
  /** Rate of `audio_chunk` audio, in Hz (always 16 000, §6.2). */
  sampleRate: number;
  options: SessionTimingOptions;
  /** A fresh `turn_id` (UUIDv4). */
  newTurnId: () => string;
}

/** An `utterance` message (§6.5) as the link hands it over: audio ready to forward. */
export interface WholeUtterance {
  /** Base64 audio of `format` (a wav was converted to pcm16 already). */
  audioBase64: string;
  format: 'opus' | 'pcm16';
  sampleRate: number;
  manualCut: boolean;
  pipeline?: Pipeline;
  traceId?: string;
}

/** An utterance the dispatcher should turn into a job. */
export interface UtteranceJob {
  index: number;
  reason: FinalizeReason | 'utterance';
  audio: { kind: 'bytes'; bytes: Uint8Array } | { kind: 'base64'; base64: string };
  format: 'opus' | 'pcm16';
  sampleRate: number;
  flags: SegmentFlags;
  paddingMs?: number;
  turnId?: string;
  pipeline?: Pipeline;
  traceId?: string;
}

export type SessionCloseReason = 'client' | 'reinit' | 'idle_timeout';

export type SessionEvent =
  | { type: 'session.audio'; bytes: Uint8Array; durationMs: number; isFinal: boolean; at: number }
  | { type: 'session.utterance'; index: number; utterance: WholeUtterance }
  | { type: 'session.ttsStarted' }
  | { type: 'session.ttsEnded'; at: number }
  /** Any other client message naming the session (`client_heartbeat`): it is not idle. */
  | { type: 'session.heard' }
  | { type: 'session.close'; reason: SessionCloseReason }
  /** The dispatcher resolved the job of `index`. */
  | { type: 'session.resolved'; index: number; outcome: UtteranceOutcome; finalizedAt?: number }
  | { type: 'session.timer'; timer: TimerName }
  | { type: 'supervisor.shutdown' };

export type SessionEmitted =
  | { type: 'session.dispatch'; job: UtteranceJob }
  | { type: 'session.deliver'; index: number; outcome: Exclude<UtteranceOutcome, { kind: 'empty' }>; finalizedAt?: number }
  /** A resolution for an index already resolved (declared missing, or a repeat): dropped (§5.6). */
  | { type: 'session.resultDropped'; index: number }
  /** An `utterance` whose index was already dispatched, skipped or waiting: no second job (§6.5). */
  | { type: 'session.utteranceIgnored'; index: number }
  | { type: 'session.closed'; reason: SessionCloseReason }
  | { type: 'session.drained' };

type TimerName = 'pause' | 'idle' | 'gap' | 'cursor';

export interface SessionContext {
  audioFormat: 'opus' | 'pcm16';
  sampleRate: number;
  options: SessionTimingOptions;
  newTurnId: () => string;
  closed: boolean;
  drained: boolean;
  segmenter: SegmenterState;
  cursor: DispatchCursor<WholeUtterance>;
  order: ResultOrder;
  /** Dispatched indices whose job is not resolved yet. */
  inFlight: ReadonlySet<number>;
  /** Which timers run: pause and idle, and the cursor value each gap timer runs for. */
  timers: { pause: boolean; idle: boolean; gap: number | undefined; cursor: number | undefined };
}

/** What one event does: the next context, what to emit, and the timers to (re)start or cancel. */
export interface Reaction {
  context: SessionContext;
  emitted: SessionEmitted[];
  start: Array<{ timer: TimerName; delayMs: number }>;
  cancel: TimerName[];
}

export function initialSessionContext(input: SessionInput): SessionContext {
  return {
    audioFormat: input.audioFormat,
    sampleRate: input.sampleRate,
    options: input.options,
    newTurnId: input.newTurnId,
    closed: false,
    drained: false,
    segmenter: EMPTY_SEGMENTER,
    cursor: emptyCursor<WholeUtterance>(),
    order: EMPTY_RESULT_ORDER,
    inFlight: new Set(),
    timers: { pause: false, idle: true, gap: undefined, cursor: undefined },
  };
}

/** The step under construction: copies of the context's values, changed in place. */
class Step {
  closed: boolean;
  segmenter: SegmenterState;
  cursor: DispatchCursor<WholeUtterance>;
  order: ResultOrder;
  inFlight: Set<number> | undefined;
  readonly emitted: SessionEmitted[] = [];
  /** The client spoke (any message naming the session): the idle timer restarts. */
  clientActive = false;
  /** The pause counts from now (audio arrived, or playback ended over a buffer). */
  pauseFromNow = false;
  /** A gap timer fired: one still wanted restarts even for the same cursor value. */
  readonly fired = new Set<TimerName>();

  constructor(readonly ctx: SessionContext) {
    this.closed = ctx.closed;
    this.segmenter = ctx.segmenter;
    this.cursor = ctx.cursor;
    this.order = ctx.order;
  }

  private inFlightSet(): Set<number> {
    return (this.inFlight ??= new Set(this.ctx.inFlight));
  }

  dispatch(job: UtteranceJob): void {
    this.inFlightSet().add(job.index);
    this.emitted.push({ type: 'session.dispatch', job });
  }

  segments(finalized: readonly FinalizedAudio[]): void {
    for (const audio of finalized) {
      const { index, step } = takeNext(this.cursor);
      this.dispatch({
        index,
        reason: audio.reason,
        audio: { kind: 'bytes', bytes: audio.bytes },
        format: this.ctx.audioFormat,
        sampleRate: this.ctx.sampleRate,
        flags: audio.flags,
        ...(audio.paddingMs !== undefined ? { paddingMs: audio.paddingMs } : {}),
        ...(audio.turnId !== undefined ? { turnId: audio.turnId } : {}),
      });
      this.cursorStep(step);
    }
  }

  cursorStep(step: CursorStep<WholeUtterance>): void {
    this.cursor = step.cursor;
    for (const index of step.skipped) this.resolve(index, { outcome: { kind: 'missing', reason: 'gap_timeout' } });
    for (const { index, item } of step.dispatch) {
      this.dispatch({
        index,
        reason: 'utterance',
        audio: { kind: 'base64', base64: item.audioBase64 },
        format: item.format,
        sampleRate: item.sampleRate,
        flags: item.manualCut ? { isManualCut: true } : {},
        ...(item.manualCut ? { paddingMs: this.ctx.options.paddingManualMs } : {}),
        ...(item.pipeline ? { pipeline: item.pipeline } : {}),
        ...(item.traceId !== undefined ? { traceId: item.traceId } : {}),
      });
    }
  }

  resolve(index: number, entry: HeldOutcome): void {
    const step = resolveIndex(this.order, index, entry, this.ctx.options.maxPendingResults);
    this.order = step.order;
    if (!step.accepted) this.emitted.push({ type: 'session.resultDropped', index });
    this.release(step.released);
  }

  release(released: readonly Released[]): void {
    for (const { index, outcome, finalizedAt } of released) {
      if (outcome.kind === 'empty') continue;
      this.emitted.push({ type: 'session.deliver', index, outcome, ...(finalizedAt !== undefined ? { finalizedAt } : {}) });
    }
  }

  close(reason: SessionCloseReason): void {
    if (this.closed) return;
    // §6.6 step 1: buffered audio is finalized with pause semantics.
    const closing = finalize(this.segmenter, 'close', this.ctx.options, this.ctx.newTurnId);
    this.segmenter = { ...closing.state, playing: false };
    this.segments(closing.finalized);
    // Utterances still waiting for a gap are sent now; nothing else will fill the gap.
    while (this.cursor.waiting.size > 0) this.cursorStep(skipGap(this.cursor));
    this.closed = true;
    this.emitted.push({ type: 'session.closed', reason });
  }

  /** The next context and the timer changes, from what the step did. */
  finish(): Reaction {
    const ctx = this.ctx;
    const inFlight = this.inFlight ?? ctx.inFlight;
    const o = ctx.options;
    const start: Reaction['start'] = [];
    const cancel: TimerName[] = [];
    const timers = { ...ctx.timers };
    for (const timer of this.fired) if (timer === 'pause' || timer === 'idle') timers[timer] = false;

    const wantPause = !this.closed && pauseWanted(this.segmenter);
    if (wantPause && (this.pauseFromNow || !timers.pause)) {
      start.push({ timer: 'pause', delayMs: o.pauseMs });
      timers.pause = true;
    } else if (!wantPause && timers.pause) {
      cancel.push('pause');
      timers.pause = false;
    }

    const busy = inFlight.size > 0;
    if (this.closed || busy) {
      if (timers.idle) cancel.push('idle');
      timers.idle = false;
    } else if (this.clientActive || !timers.idle) {
      start.push({ timer: 'idle', delayMs: o.idleTimeoutMs });
      timers.idle = true;
    }

    const gapStep = (timer: 'gap' | 'cursor', wanted: boolean, at: number) => {
      if (wanted && (timers[timer] !== at || this.fired.has(timer))) {
        start.push({ timer, delayMs: o.resultGapGraceMs });
        timers[timer] = at;
      } else if (!wanted && timers[timer] !== undefined) {
        if (!this.fired.has(timer)) cancel.push(timer);
        timers[timer] = undefined;
      }
    };
    gapStep('gap', this.order.held.size > 0, this.order.next);
    gapStep('cursor', this.cursor.waiting.size > 0, this.cursor.next);

    let drained = ctx.drained;
    if (this.closed && !drained && inFlight.size === 0 && this.order.held.size === 0 && this.cursor.waiting.size === 0) {
      drained = true;
      this.emitted.push({ type: 'session.drained' });
    }
    return {
      context: { ...ctx, closed: this.closed, drained, segmenter: this.segmenter, cursor: this.cursor, order: this.order, inFlight, timers },
      emitted: this.emitted,
      start,
      cancel,
    };
  }
}

/** One event, as a pure step over the context. */
export function reactTo(ctx: SessionContext, event: SessionEvent): Reaction {
  const step = new Step(ctx);
  const o = ctx.options;
  switch (event.type) {
    case 'session.audio': {
      if (ctx.closed) break;
      step.clientActive = true;
      const appended = appendChunk(ctx.segmenter, { bytes: event.bytes, durationMs: event.durationMs, isFinal: event.isFinal, at: event.at }, o, ctx.newTurnId);
      step.segmenter = appended.state;
      step.pauseFromNow = event.bytes.byteLength > 0;
      step.segments(appended.finalized);
      break;
    }
    case 'session.utterance': {
      if (ctx.closed) break;
      step.clientActive = true;
      const offered = offer(ctx.cursor, event.index, event.utterance, o.maxPendingResults);
      if (offered) step.cursorStep(offered);
      else step.emitted.push({ type: 'session.utteranceIgnored', index: event.index });
      break;
    }
    case 'session.ttsStarted':
      if (ctx.closed) break;
      step.clientActive = true;
      step.segmenter = playbackStarted(ctx.segmenter);
      break;
    case 'session.ttsEnded':
      if (ctx.closed) break;
      step.clientActive = true;
      step.segmenter = playbackEnded(ctx.segmenter, event.at);
      step.pauseFromNow = ctx.segmenter.bytes > 0;
      break;
    case 'session.heard':
      step.clientActive = !ctx.closed;
      break;
    case 'session.close':
      step.close(event.reason);
      break;
    case 'session.resolved': {
      if (ctx.inFlight.has(event.index)) {
        step.inFlight = new Set(ctx.inFlight);
        step.inFlight.delete(event.index);
      }
      step.resolve(event.index, { outcome: event.outcome, ...(event.finalizedAt !== undefined ? { finalizedAt: event.finalizedAt } : {}) });
      break;
    }
    case 'session.timer':
      step.fired.add(event.timer);
      switch (event.timer) {
        case 'pause': {
          const paused = finalize(ctx.segmenter, 'pause', o, ctx.newTurnId);
          step.segmenter = paused.state;
          step.segments(paused.finalized);
          break;
        }
        case 'idle':
          step.close('idle_timeout');
          break;
        case 'gap': {
          const declared = declareGapMissing(ctx.order, 'gap_timeout');
          step.order = declared.order;
          step.release(declared.released);
          break;
        }
        case 'cursor':
          step.cursorStep(skipGap(ctx.cursor));
          break;
        default: {
          const never: never = event.timer;
          return never;
        }
      }
      break;
    case 'supervisor.shutdown':
      break;
    default: {
      const never: never = event;
      return never;
    }
  }
  return step.finish();
}

const timerId = (timer: TimerName) => `session.${timer}`;

const sessionSetup = setup({
  types: {} as { context: SessionContext; events: SessionEvent; input: SessionInput; emitted: SessionEmitted },
  delays: { idleTimeout: ({ context }) => context.options.idleTimeoutMs },
  actions: {
    react: enqueueActions(({ context, event, enqueue }) => {
      const reaction = reactTo(context, event);
      for (const timer of reaction.cancel) enqueue.cancel(timerId(timer));
      for (const { timer, delayMs } of reaction.start) {
        // Restarting a timer: the one running is cancelled first (one id, one pending event).
        enqueue.cancel(timerId(timer));
        enqueue.raise({ type: 'session.timer', timer }, { id: timerId(timer), delay: delayMs });
      }
      // The function form: the object form would read the function-valued `newTurnId` as an assigner.
      enqueue.assign(() => reaction.context);
      for (const emitted of reaction.emitted) enqueue.emit(emitted);
    }),
  },
});

const react = { actions: 'react' } as const;

export const sessionMachine = sessionSetup.createMachine({
  id: 'session',
  context: ({ input }) => initialSessionContext(input),
  initial: 'active',
  states: {
    active: {
      // The idle timeout counts from the session's creation (§6.6).
      entry: sessionSetup.raise({ type: 'session.timer', timer: 'idle' }, { id: timerId('idle'), delay: 'idleTimeout' }),
      on: {
        'session.audio': react,
        'session.utterance': react,
        'session.ttsStarted': react,
        'session.ttsEnded': react,
        'session.heard': react,
        'session.close': react,
        'session.resolved': react,
        'session.timer': react,
        'supervisor.shutdown': 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});
