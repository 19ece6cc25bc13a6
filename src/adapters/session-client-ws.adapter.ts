/**
 * A session client of the scheduler over `ws` (PROTOCOL.md §6, what `linguamesh translate` uses):
 * it opens `/ws/session`, negotiates with `session_init`, sends whole `utterance`s and gathers one
 * outcome per utterance index, then closes with `session_close`.
 *
 * Knowing when every utterance is done: results come in `utterance_index` order (§5.6), so a
 * message about index i also settles every lower index still open; the scheduler sends nothing at
 * all for an empty result (`ASR_EMPTY`, §8.1), so those indices are settled by a later index or,
 * for the last ones, by `resultTimeoutMs` of silence from the scheduler.
 */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { Clock, TimerId } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import { encodeFrame } from '../protocol/validation.js';
import { parseSchedulerToClient } from '../protocol/session-link.schema.js';
import type { SchedulerToClientMessage, SessionClose, SessionInit, SessionInitAck, Utterance } from '../protocol/session-link.schema.js';
import type { TranslationResult } from '../protocol/session-results.schema.js';

export interface SessionClientOptions {
  /** `ws://host:port` of the scheduler; `/ws/session` is appended unless the URL has a path. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (§1.2). */
  authToken?: string | undefined;
  /** Longest wait for the socket to open and `session_init_ack` to come, in ms. */
  connectTimeoutMs: number;
  /** Longest silence from the scheduler while results are still due, in ms. */
  resultTimeoutMs: number;
  /** Longest wait for `session_close_ack`, in ms. */
  closeTimeoutMs: number;
  clock: Clock;
}

export { DEFAULT_SESSION_CLIENT_OPTIONS } from './session-client.defaults.js';

/** One utterance to send (§6.5): audio already in the negotiated format, base64. */
export interface OutgoingUtterance {
  audioBase64: string;
  format: 'opus' | 'pcm16';
  /** In Hz. */
  sampleRate: number;
}

export type UtteranceOutcome =
  /** A `translation_result`; `roundTripMs` from sending the utterance to the result. */
  | { index: number; kind: 'result'; result: TranslationResult; roundTripMs: number }
  /** `missing_result` (silence, a gap declared missing). */
  | { index: number; kind: 'missing'; reason: string }
  /** Settled by a later index with no message of its own: the node heard no speech (§8.1). */
  | { index: number; kind: 'empty' }
  /** An `error` for this utterance (NO_AVAILABLE_NODE, JOB_TIMEOUT, PROCESSING_ERROR, …). */
  | { index: number; kind: 'failed'; error: { code: string; message: string; details?: Record<string, unknown> | undefined } }
  /** Nothing came within `resultTimeoutMs` of the scheduler's last message. */
  | { index: number; kind: 'timedOut' };

export interface SessionClient {
  readonly ack: SessionInitAck;
  /** Sends the utterances as indices 0…n-1 and resolves one outcome per index, in index order. */
  translate(utterances: OutgoingUtterance[], signal: AbortSignal): Promise<UtteranceOutcome[]>;
  /** `session_close`, a bounded wait for its ack, then the socket closes. Idempotent. */
  close(): Promise<void>;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function connectError(err: Error, url: string): KernelError {
  const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  if (status === '401') return new KernelError('UNAUTHORIZED', `the scheduler at ${url} refused the session: give the right --auth-token`, { cause: err, details: { status: 401 } });
  if (status !== undefined) return new KernelError('SCHEDULER_UNREACHABLE', `${url} refused the WebSocket upgrade with HTTP ${status} (is it a linguamesh scheduler?)`, { cause: err, details: { status: Number(status) } });
  const errno = (err as NodeJS.ErrnoException).code;
  return new KernelError('SCHEDULER_UNREACHABLE', `cannot reach the scheduler at ${url}: ${errno ?? err.message}`, { cause: err, retryable: true, details: { url, ...(errno ? { errno } : {}) } });
}

function sessionUrl(base: string): string {
  const url = new URL(base);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws/session';
  return url.href;
}

/** The utterance index an `error` is about, when it names one (job failures do, §6.8). */
function indexOfError(message: Extract<SchedulerToClientMessage, { type: 'error' }>): number | undefined {
  const index = message.details?.utterance_index;
  return typeof index === 'number' && Number.isInteger(index) ? index : undefined;
}

/**
 * Connects and negotiates the session. Rejects with SCHEDULER_UNREACHABLE, UNAUTHORIZED,
 * SESSION_INIT_TIMEOUT, the scheduler's own `error` code, or ABORTED.
 */
export async function openSession(options: SessionClientOptions, init: Omit<SessionInit, 'type'>, signal: AbortSignal): Promise<SessionClient> {
  const url = sessionUrl(options.url);
  const ws = new WebSocket(url, {
    ...(options.authToken ? { headers: { authorization: `Bearer ${options.authToken}` } } : {}),
    handshakeTimeout: options.connectTimeoutMs,
  });
  // Messages arrive in order and are handed to whoever waits (init, then translate).
  let onMessage: (message: SchedulerToClientMessage) => void = () => undefined;
  let onGone: (error: KernelError) => void = () => undefined;
  let gone: KernelError | undefined;
  let connectFailure: KernelError | undefined;
  ws.on('error', (err: Error) => {
    connectFailure ??= connectError(err, url);
  });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) return;
    const parsed = parseSchedulerToClient(rawText(data));
    // An unknown or invalid message is ignored (§1.4): a newer scheduler may send more.
    if (parsed.ok) onMessage(parsed.value);
  });
  ws.on('close', (code: number) => {
    gone = connectFailure ?? new KernelError('SESSION_LINK_CLOSED', `the scheduler closed the session socket (code ${code})`, { retryable: true, details: { code } });
    onGone(gone);
  });

  const ack = await new Promise<SessionInitAck>((resolve, reject) => {
    const timer = options.clock.setTimeout(() => fail(new KernelError('SESSION_INIT_TIMEOUT', `no session_init_ack from ${url} within ${options.connectTimeoutMs} ms`, { retryable: true })), options.connectTimeoutMs);
    const abort = () => fail(new AbortedError('session aborted before it opened'));
    const fail = (error: KernelError) => {
      options.clock.clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      ws.terminate();
      reject(error);
    };
    signal.addEventListener('abort', abort, { once: true });
    onGone = fail;
    onMessage = (message) => {
      if (message.type === 'error') fail(new KernelError(message.code, message.message, { details: message.details ?? undefined }));
      if (message.type !== 'session_init_ack') return;
      options.clock.clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      resolve(message);
    };
    ws.once('open', () => ws.send(encodeFrame({ type: 'session_init', ...init })));
  });

  let closing: Promise<void> | undefined;
  const client: SessionClient = {
    ack,
    translate: (utterances, translateSignal) => {
      if (gone) return Promise.reject(gone);
      return gatherOutcomes(utterances, translateSignal);
    },
    close: () => (closing ??= closeGracefully()),
  };

  function gatherOutcomes(utterances: OutgoingUtterance[], translateSignal: AbortSignal): Promise<UtteranceOutcome[]> {
    const outcomes = new Map<number, UtteranceOutcome>();
    const sentAt: number[] = [];
    return new Promise<UtteranceOutcome[]>((resolve, reject) => {
      let idle: TimerId | undefined;
      const finish = () => {
        options.clock.clearTimeout(idle);
        translateSignal.removeEventListener('abort', abort);
        onMessage = () => undefined;
        onGone = () => undefined;
        resolve(utterances.map((_, index) => outcomes.get(index) ?? { index, kind: 'timedOut' }));
      };
      const fail = (error: KernelError) => {
        options.clock.clearTimeout(idle);
        translateSignal.removeEventListener('abort', abort);
        reject(error);
      };
      const abort = () => fail(new AbortedError('translation aborted'));
      const armIdle = () => {
        options.clock.clearTimeout(idle);
        idle = options.clock.setTimeout(finish, options.resultTimeoutMs);
      };
      const settle = (outcome: UtteranceOutcome) => {
        if (outcome.index < 0 || outcome.index >= utterances.length) return;
        const known = outcomes.get(outcome.index);
        // A complete result may follow an empty one of the same job (§5.5): it wins.
        if (known && !(known.kind === 'empty' && outcome.kind === 'result')) return;
        outcomes.set(outcome.index, outcome);
        // §5.6: delivery is in index order, so every lower index is settled by now.
        for (let lower = 0; lower < outcome.index; lower += 1) if (!outcomes.has(lower)) outcomes.set(lower, { index: lower, kind: 'empty' });
        if (outcomes.size === utterances.length) finish();
      };
      translateSignal.addEventListener('abort', abort, { once: true });
      onGone = fail;
      onMessage = (message) => {
        armIdle();
        switch (message.type) {
          case 'translation_result':
            settle({ index: message.utterance_index, kind: 'result', result: message, roundTripMs: Math.max(0, options.clock.now() - (sentAt[message.utterance_index] ?? 0)) });
            return;
          case 'missing_result':
            settle({ index: message.utterance_index, kind: 'missing', reason: message.reason });
            return;
          case 'error': {
            const index = indexOfError(message);
            const error = { code: message.code, message: message.message, details: message.details ?? undefined };
            if (index === undefined) fail(new KernelError(message.code, message.message, { details: message.details ?? undefined }));
            else settle({ index, kind: 'failed', error });
            return;
          }
          default:
            return;
        }
      };
      armIdle();
      utterances.forEach((u, index) => {
        sentAt[index] = options.clock.now();
        const frame: Utterance = {
          type: 'utterance',
          session_id: ack.session_id,
          src_lang: init.src_lang,
          tgt_lang: init.tgt_lang,
          audio_format: u.format,
          utterance_index: index,
          manual_cut: true,
          audio: u.audioBase64,
          sample_rate: u.sampleRate,
          trace_id: ack.trace_id,
        };
        ws.send(encodeFrame(frame));
      });
      if (utterances.length === 0) finish();
    });
  }

  async function closeGracefully(): Promise<void> {
    if (gone || ws.readyState !== WebSocket.OPEN) {
      ws.terminate();
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = options.clock.setTimeout(done, options.closeTimeoutMs);
      function done() {
        options.clock.clearTimeout(timer);
        onMessage = () => undefined;
        onGone = () => undefined;
        resolve();
      }
      onMessage = (message) => {
        if (message.type === 'session_close_ack') done();
      };
      onGone = done;
      const frame: SessionClose = { type: 'session_close', session_id: ack.session_id, reason: 'client_done' };
      ws.send(encodeFrame(frame));
    });
    // Jobs still running are cancelled when the socket closes (§6.6 step 4): all are settled here.
    await new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = options.clock.setTimeout(() => ws.terminate(), options.closeTimeoutMs);
      ws.once('close', () => {
        options.clock.clearTimeout(timer);
        resolve();
      });
      ws.close(1000, 'done');
    });
  }

  return client;
}
