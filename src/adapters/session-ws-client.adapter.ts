/**
 * A minimal client of the scheduler's session link (`/ws/session`, PROTOCOL.md §6): opens a
 * session, sends whole utterances, and hands back what the scheduler sends about each utterance
 * index (`translation_result`, `missing_result`, or an `error` naming it). What `linguamesh up
 * --demo` needs; frames are parsed with the protocol's schemas, never trusted as they come.
 */
import { WebSocket } from 'ws';
import { KernelError } from '../kernel/errors.js';
import type { SessionError, TranslationResult, MissingResult } from '../protocol/index.js';
import { parseSchedulerToClient } from '../protocol/index.js';
import type { SchedulerToClientMessage, SessionInitAck } from '../protocol/index.js';

/** The scheduler's answer about one utterance index. */
export type UtteranceOutcome =
  | { kind: 'result'; result: TranslationResult; receivedAtMs: number }
  | { kind: 'missing'; missing: MissingResult; receivedAtMs: number }
  | { kind: 'error'; error: SessionError; receivedAtMs: number };

export interface SessionOpenOptions {
  /** `ws://host:port/ws/session`. */
  url: string;
  srcLang: string;
  tgtLang: string;
  /** `opus` | `pcm16` | `wav`: the format of `tts_audio` in results. */
  ttsFormat: string;
  clientVersion: string;
  /** Bearer token (§1.2), when the scheduler has one. */
  authToken?: string;
  /** Longest wait for the socket and the `session_init_ack`, in ms. */
  openTimeoutMs: number;
}

export interface SessionWsClient {
  readonly sessionId: string;
  readonly ack: SessionInitAck;
  /** Sends one whole `utterance` (§6.5); `audio` is the file's bytes in `audioFormat`. */
  sendUtterance(index: number, audio: Uint8Array, audioFormat: 'wav' | 'pcm16' | 'opus', sampleRate: number): void;
  /** The outcome of `index`, once the scheduler sent one; rejects when the socket closes first or `signal` aborts. */
  outcome(index: number, signal: AbortSignal): Promise<UtteranceOutcome>;
  /** `session_close`, then closes the socket. Idempotent. */
  close(): Promise<void>;
}

/**
 * The utterance a message answers. Results and missing results name it; the scheduler sends a
 * failed job's `error` in utterance order without naming it (§6.7), so an error answers the lowest
 * utterance sent and not answered yet.
 */
function indexOf(message: SchedulerToClientMessage, sent: ReadonlySet<number>, answered: ReadonlyMap<number, unknown>): number | undefined {
  if (message.type === 'translation_result' || message.type === 'missing_result') return message.utterance_index;
  if (message.type !== 'error') return undefined;
  const pending = [...sent].filter((i) => !answered.has(i));
  return pending.length > 0 ? Math.min(...pending) : undefined;
}

export async function openSession(options: SessionOpenOptions): Promise<SessionWsClient> {
  const ws = new WebSocket(options.url, { headers: options.authToken ? { authorization: `Bearer ${options.authToken}` } : {} });
  const outcomes = new Map<number, UtteranceOutcome>();
  const sent = new Set<number>();
  const waiters = new Set<() => void>();
  let closedError: KernelError | undefined;
  let ackSeen: ((ack: SessionInitAck) => void) | undefined;
  let sessionError: ((err: KernelError) => void) | undefined;

  const wake = () => [...waiters].forEach((w) => w());
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const parsed = parseSchedulerToClient(String(data));
    if (!parsed.ok) return;
    const message = parsed.value;
    const receivedAtMs = Date.now();
    if (message.type === 'session_init_ack') ackSeen?.(message);
    const index = indexOf(message, sent, outcomes);
    if (index === undefined) {
      if (message.type === 'error') sessionError?.(new KernelError(message.code, message.message));
      return;
    }
    if (outcomes.has(index)) return;
    if (message.type === 'translation_result') outcomes.set(index, { kind: 'result', result: message, receivedAtMs });
    else if (message.type === 'missing_result') outcomes.set(index, { kind: 'missing', missing: message, receivedAtMs });
    else if (message.type === 'error') outcomes.set(index, { kind: 'error', error: message, receivedAtMs });
    wake();
  });
  ws.on('error', () => undefined);
  ws.once('close', (code, reason) => {
    closedError = new KernelError('SESSION_CLOSED', `the scheduler closed the session link (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`);
    sessionError?.(closedError);
    wake();
  });

  const ack = await new Promise<SessionInitAck>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new KernelError('SESSION_OPEN_TIMEOUT', `no session_init_ack from ${options.url} within ${options.openTimeoutMs} ms`));
    }, options.openTimeoutMs);
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      ackSeen = undefined;
      sessionError = undefined;
      fn();
    };
    ackSeen = (value) => settle(() => resolve(value));
    sessionError = (err) => settle(() => reject(err));
    ws.once('unexpected-response', (_req, res) => settle(() => reject(new KernelError('SESSION_REFUSED', `the scheduler refused the session link: HTTP ${res.statusCode ?? '?'}`))));
    ws.once('open', () =>
      ws.send(JSON.stringify({ type: 'session_init', client_version: options.clientVersion, platform: 'api-gateway', src_lang: options.srcLang, tgt_lang: options.tgtLang, tts_format: options.ttsFormat })),
    );
    ws.once('error', (err) => settle(() => reject(new KernelError('SESSION_CONNECT_FAILED', `cannot connect to ${options.url}: ${err.message}`, { cause: err }))));
  });

  let closing: Promise<void> | undefined;
  return {
    sessionId: ack.session_id,
    ack,
    sendUtterance(index, audio, audioFormat, sampleRate) {
      sent.add(index);
      ws.send(
        JSON.stringify({
          type: 'utterance',
          session_id: ack.session_id,
          src_lang: options.srcLang,
          tgt_lang: options.tgtLang,
          audio_format: audioFormat,
          utterance_index: index,
          manual_cut: true,
          audio: Buffer.from(audio).toString('base64'),
          sample_rate: sampleRate,
        }),
      );
    },
    async outcome(index, signal) {
      for (;;) {
        const found = outcomes.get(index);
        if (found) return found;
        if (closedError) throw closedError;
        if (signal.aborted) throw new KernelError('ABORTED', `no answer for utterance ${index}`, { cause: signal.reason });
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          waiters.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'session_close', session_id: ack.session_id, reason: 'done' }));
        const timer = setTimeout(() => ws.terminate(), 2_000);
        ws.once('close', () => clearTimeout(timer));
        ws.close(1000, 'done');
      });
      return closing;
    },
  };
}
