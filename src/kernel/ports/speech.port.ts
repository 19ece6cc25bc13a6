/**
 * The node's calls to its local speech services (PROTOCOL.md §9.1–§9.4): one method per stage of a
 * job, named for what the node needs. The adapter behind it speaks HTTP to the service at
 * `service.baseUrl`; jobs see only this interface.
 *
 * Every method takes `signal` last and rejects only with KernelErrors whose codes are listed in
 * `SPEECH_ERROR_CODES`. A call is either a success or a failed call (§8.4): the port never retries
 * and never picks another service — failover is the job machine's decision.
 */
import type { AsrUtteranceRequest, AsrUtteranceResponse, TranslateRequest, TranslateResponse, TtsRequest } from '../../protocol/service-api.schema.js';
import type { SynthesizedAudio } from './audio.port.js';

/** The service a call goes to: enough of a ServiceSnapshot to reach it. */
export interface SpeechServiceRef {
  /** The service.json id (logs, error details, connection reuse). */
  id: string;
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** TTS services only: `/tts` answers a WAV, `/synthesize` float samples (§9.4). */
  ttsEndpoint: '/tts' | '/synthesize';
  /** The version that answers at `baseUrl`, when known (a version in use is never uninstalled). */
  version?: string;
}

/** A translation that succeeded: `ok: true` with a string `text` (§9.3). */
export type TranslateSuccess = TranslateResponse & { ok: true; text: string };

/** Stable codes of the KernelErrors this port rejects with (STYLE.md §7). */
export const SPEECH_ERROR_CODES = {
  /** Connection refused, reset or closed before an answer. Retryable. */
  unreachable: 'SERVICE_UNREACHABLE',
  /** The HTTP client's own header or body timer fired (the caller's deadline is `aborted`). Retryable. */
  timeout: 'SERVICE_TIMEOUT',
  /** A non-2xx answer; `details.status`, and `details.retryAfterS` from a 503's Retry-After (information only). Retryable per status. */
  httpError: 'SERVICE_HTTP_ERROR',
  /** A 2xx answer whose body does not match the API (§9.2–§9.4), or one over the size limit. Not retryable. */
  badResponse: 'SERVICE_BAD_RESPONSE',
  /** NMT answered `ok: false` or without `text` (§9.3): a failed call. Retryable (another service may work). */
  notOk: 'SERVICE_REPLY_NOT_OK',
  /** The port is closed. Not retryable. */
  closed: 'SPEECH_CLOSED',
  /** The caller's signal aborted the call. Not retryable. */
  aborted: 'ABORTED',
} as const;

export interface SpeechPort {
  /** ASR `POST /utterance` (§9.2): the node always sends pcm16 at 16 kHz. */
  transcribe(service: SpeechServiceRef, request: AsrUtteranceRequest, signal: AbortSignal): Promise<AsrUtteranceResponse>;
  /** NMT `POST /v1/translate` (§9.3); `ok: false` rejects with SERVICE_REPLY_NOT_OK. */
  translate(service: SpeechServiceRef, request: TranslateRequest, signal: AbortSignal): Promise<TranslateSuccess>;
  /**
   * TTS (§9.4) on the service's `ttsEndpoint`: `/tts` with `{text, voice, language}` answers a WAV;
   * `/synthesize` gets `{text, language}` (`voice` is not part of that API) and answers float samples.
   */
  synthesize(service: SpeechServiceRef, request: TtsRequest, signal: AbortSignal): Promise<SynthesizedAudio>;
  /** Drops what the port keeps for a service that went away (its connections). Idempotent. */
  forget(serviceId: string): void;
  /** Idempotent and bounded: closes every connection. */
  close(): Promise<void>;
}
