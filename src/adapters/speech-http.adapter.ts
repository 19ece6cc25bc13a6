/**
 * The speech port over HTTP/1.1 with undici (PROTOCOL.md §9.1–§9.4, STYLE.md §10): one keep-alive
 * `Pool` per service, created at its first call and destroyed when the service goes away (`forget`)
 * or on `close()`; when it moves to another origin (a restart on a new port, a version switch) the
 * old pool is closed gracefully, so calls still in flight to the old origin finish.
 *
 * Deadlines arrive only through the caller's signal: this adapter sets no timer of its own beyond
 * undici's defaults. Every failure becomes a KernelError of `SPEECH_ERROR_CODES`, with the library
 * error as `cause`. The adapter never retries and never picks another service.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import type { ZodType } from 'zod';
import { AbortedError, KernelError, TimeoutError, isKernelError, isRetryableHttpStatus } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { SynthesizedAudio } from '../kernel/ports/audio.port.js';
import { SPEECH_ERROR_CODES } from '../kernel/ports/speech.port.js';
import type { SpeechPort, SpeechServiceRef, TranslateSuccess } from '../kernel/ports/speech.port.js';
import {
  AsrUtteranceResponseSchema,
  ServiceErrorBodySchema,
  SynthesizeResponseSchema,
  TranslateResponseSchema,
  isTranslateSuccess,
} from '../protocol/service-api.schema.js';
import type { AsrUtteranceRequest, AsrUtteranceResponse, SynthesizeRequest, TranslateRequest, TtsRequest } from '../protocol/service-api.schema.js';
import { encodeJson } from '../protocol/validation.js';

export interface SpeechHttpOptions {
  /** Keep-alive connections per service; calls beyond it wait in undici's queue. Default 8. */
  connectionsPerService: number;
  /** Largest response body read, in bytes (a TTS WAV of a long sentence is a few MB). Default 32 MiB. */
  maxResponseBytes: number;
  /** Idle time after which a kept-alive connection is closed, in ms. Default 30 000. */
  keepAliveMs: number;
}

export const DEFAULT_SPEECH_HTTP_OPTIONS = {
  connectionsPerService: 8,
  maxResponseBytes: 32 * 1024 * 1024,
  keepAliveMs: 30_000,
} as const satisfies SpeechHttpOptions;

export interface SpeechHttpDeps {
  logger: Logger;
}

interface ServicePool {
  origin: string;
  pool: Pool;
}

/** Longest part of an error body kept in an error's details, in characters. */
const ERROR_TEXT_KEEP = 300;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After as seconds, when it is a number of seconds (§9.1); an HTTP date is left out. */
function retryAfterSeconds(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const value = headerValue(headers, 'retry-after');
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export function createSpeechHttpAdapter(options: Partial<SpeechHttpOptions>, deps: SpeechHttpDeps): SpeechPort {
  const opts: SpeechHttpOptions = { ...DEFAULT_SPEECH_HTTP_OPTIONS, ...options };
  const log = deps.logger.child({ actor: 'speech-http' });
  const pools = new Map<string, ServicePool>();
  let closing: Promise<void> | undefined;

  const dispose = (serviceId: string, entry: ServicePool) => {
    pools.delete(serviceId);
    // In-flight calls of a service that went away fail at once rather than hang.
    entry.pool.destroy().catch((err: unknown) => log.debug({ err, serviceId }, 'service connections already gone'));
  };

  const poolFor = (service: SpeechServiceRef): Pool => {
    if (closing) throw new KernelError(SPEECH_ERROR_CODES.closed, 'the speech port is closed');
    const origin = new URL(service.baseUrl).origin;
    const existing = pools.get(service.id);
    if (existing && existing.origin === origin) return existing.pool;
    if (existing) {
      // The service moved (a restart on another port, or a version switch with no gap, where the
      // old process still finishes the calls it holds): let those calls end, then close.
      pools.delete(service.id);
      existing.pool.close().catch((err: unknown) => log.debug({ err, serviceId: service.id }, 'previous service connections already gone'));
    }
    const pool = new Pool(origin, {
      connections: opts.connectionsPerService,
      keepAliveTimeout: opts.keepAliveMs,
      maxResponseSize: opts.maxResponseBytes,
    });
    pools.set(service.id, { origin, pool });
    return pool;
  };

  const translateError = (error: unknown, service: SpeechServiceRef, path: string, signal: AbortSignal): KernelError => {
    if (signal.aborted) return new AbortedError(`call to ${service.id} ${path} aborted`, { cause: signal.reason ?? error });
    if (isKernelError(error)) return error as KernelError;
    const code = errorCodeOf(error);
    const details = { serviceId: service.id, path, ...(code ? { libraryCode: code } : {}) };
    if (code !== undefined && UNREACHABLE_CODES.has(code)) {
      return new KernelError(SPEECH_ERROR_CODES.unreachable, `service ${service.id} unreachable (${code})`, { retryable: true, cause: error, details });
    }
    if (code !== undefined && TIMEOUT_CODES.has(code)) {
      return new TimeoutError(SPEECH_ERROR_CODES.timeout, `service ${service.id} did not answer in time (${code})`, { cause: error, details });
    }
    if (error instanceof undiciErrors.ResponseExceededMaxSizeError || code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
      return new KernelError(SPEECH_ERROR_CODES.badResponse, `service ${service.id} answered more than ${opts.maxResponseBytes} bytes`, { cause: error, details });
    }
    if (code === 'UND_ERR_DESTROYED') {
      return new KernelError(SPEECH_ERROR_CODES.unreachable, `connections to ${service.id} were closed`, { retryable: true, cause: error, details });
    }
    return new KernelError(SPEECH_ERROR_CODES.unreachable, `call to ${service.id} failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error, details });
  };

  /** POST `body` as JSON; resolves with the 2xx response, whose body the caller must consume. */
  const post = async (service: SpeechServiceRef, path: string, body: object, signal: AbortSignal): Promise<Dispatcher.ResponseData> => {
    let response: Dispatcher.ResponseData;
    try {
      if (signal.aborted) throw new AbortedError(`call to ${service.id} ${path} aborted before it started`, { cause: signal.reason });
      response = await poolFor(service).request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json, audio/wav' },
        body: encodeJson(body),
        signal,
      });
    } catch (error) {
      throw translateError(error, service, path, signal);
    }
    if (response.statusCode >= 200 && response.statusCode < 300) return response;
    let text = '';
    try {
      text = await response.body.text();
    } catch (error) {
      throw translateError(error, service, path, signal);
    }
    let parsed: ReturnType<typeof ServiceErrorBodySchema.safeParse> | undefined;
    try {
      parsed = ServiceErrorBodySchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    const reason = parsed?.success ? (parsed.data.detail ?? parsed.data.error) : undefined;
    const retryAfterS = retryAfterSeconds(response.headers);
    throw new KernelError(SPEECH_ERROR_CODES.httpError, `service ${service.id} answered ${response.statusCode}${reason ? `: ${reason.slice(0, ERROR_TEXT_KEEP)}` : ''}`, {
      retryable: isRetryableHttpStatus(response.statusCode),
      details: {
        serviceId: service.id,
        path,
        status: response.statusCode,
        ...(retryAfterS !== undefined ? { retryAfterS } : {}),
        ...(parsed?.success && parsed.data.code ? { serviceCode: parsed.data.code } : {}),
      },
    });
  };

  const readJson = async <T>(response: Dispatcher.ResponseData, schema: ZodType<T>, service: SpeechServiceRef, path: string, signal: AbortSignal): Promise<T> => {
    let value: unknown;
    try {
      value = await response.body.json();
    } catch (error) {
      if (signal.aborted || errorCodeOf(error) !== undefined) throw translateError(error, service, path, signal);
      throw new KernelError(SPEECH_ERROR_CODES.badResponse, `service ${service.id} answered ${path} with a body that is not JSON`, { cause: error, details: { serviceId: service.id, path } });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new KernelError(SPEECH_ERROR_CODES.badResponse, `service ${service.id} answered ${path} with an unexpected body`, {
        cause: parsed.error,
        details: { serviceId: service.id, path, issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      });
    }
    return parsed.data;
  };

  return {
    async transcribe(service: SpeechServiceRef, request: AsrUtteranceRequest, signal: AbortSignal): Promise<AsrUtteranceResponse> {
      const response = await post(service, '/utterance', request, signal);
      return readJson(response, AsrUtteranceResponseSchema, service, '/utterance', signal);
    },

    async translate(service: SpeechServiceRef, request: TranslateRequest, signal: AbortSignal): Promise<TranslateSuccess> {
      const response = await post(service, '/v1/translate', request, signal);
      const answer = await readJson(response, TranslateResponseSchema, service, '/v1/translate', signal);
      // §9.3, §8.4: `ok: false` (e.g. "Model not loaded") is a failed call, never an empty translation.
      if (!isTranslateSuccess(answer)) {
        throw new KernelError(SPEECH_ERROR_CODES.notOk, `service ${service.id} could not translate${answer.error ? `: ${answer.error.slice(0, ERROR_TEXT_KEEP)}` : ''}`, {
          retryable: true,
          details: { serviceId: service.id, path: '/v1/translate', ok: answer.ok },
        });
      }
      return answer;
    },

    async synthesize(service: SpeechServiceRef, request: TtsRequest, signal: AbortSignal): Promise<SynthesizedAudio> {
      if (service.ttsEndpoint === '/synthesize') {
        const body: SynthesizeRequest = { text: request.text, language: request.language ?? 'en' };
        const response = await post(service, '/synthesize', body, signal);
        const answer = await readJson(response, SynthesizeResponseSchema, service, '/synthesize', signal);
        return { kind: 'pcm', samples: Float32Array.from(answer.audio), sampleRate: answer.sample_rate };
      }
      const response = await post(service, '/tts', request, signal);
      try {
        return { kind: 'wav', bytes: new Uint8Array(await response.body.arrayBuffer()) };
      } catch (error) {
        throw translateError(error, service, '/tts', signal);
      }
    },

    forget(serviceId: string): void {
      const entry = pools.get(serviceId);
      if (entry) dispose(serviceId, entry);
    },

    close(): Promise<void> {
      closing ??= (async () => {
        const entries = [...pools.values()];
        pools.clear();
        // Jobs stop before this port closes, so nothing should be in flight: destroy, don't wait.
        await Promise.allSettled(entries.map((e) => e.pool.destroy()));
      })();
      return closing;
    },
  };
}
