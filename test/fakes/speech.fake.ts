/**
 * A SpeechPort whose answers the test scripts per service: a value, a KernelError, latency on a fake
 * clock, or a call that never answers until its signal aborts. Every call is recorded with its
 * signal, so tests can see a timeout or a cancel abort it.
 */
import type { Clock } from '../../src/kernel/clock.js';
import { AbortedError, KernelError, TimeoutError } from '../../src/kernel/errors.js';
import type { SynthesizedAudio } from '../../src/kernel/ports/audio.port.js';
import { SPEECH_ERROR_CODES } from '../../src/kernel/ports/speech.port.js';
import type { SpeechPort, SpeechServiceRef, TranslateSuccess } from '../../src/kernel/ports/speech.port.js';
import type { AsrUtteranceRequest, AsrUtteranceResponse, TranslateRequest, TtsRequest } from '../../src/protocol/service-api.schema.js';

export type SpeechOp = 'transcribe' | 'translate' | 'synthesize';

export interface FakeSpeechCall {
  op: SpeechOp;
  serviceId: string;
  service: SpeechServiceRef;
  request: AsrUtteranceRequest | TranslateRequest | TtsRequest;
  signal: AbortSignal;
  /** How it ended: `ok`, an error code, or `pending`. */
  outcome: string;
}

/** What a scripted service does with one call: return a value (or a promise), or throw. */
export type SpeechReply = (call: FakeSpeechCall) => unknown;

export const DEFAULT_TRANSCRIPT = 'where is the train station';
export const DEFAULT_TRANSLATION = 'dónde está la estación de tren';

function defaultReply(call: FakeSpeechCall): unknown {
  switch (call.op) {
    case 'transcribe':
      return { text: DEFAULT_TRANSCRIPT, language: 'en', language_probability: 0.98 } satisfies AsrUtteranceResponse;
    case 'translate':
      return { ok: true, text: DEFAULT_TRANSLATION, provider: 'fake' } satisfies TranslateSuccess;
    case 'synthesize':
      return { kind: 'wav', bytes: new Uint8Array([82, 73, 70, 70]) } satisfies SynthesizedAudio;
  }
}

/** Never answers; rejects with ABORTED when the caller's signal aborts. */
export const hang: SpeechReply = (call) =>
  new Promise((_, reject) => {
    const abort = () => reject(new AbortedError(`${call.op} aborted`));
    if (call.signal.aborted) abort();
    else call.signal.addEventListener('abort', abort, { once: true });
  });

export const refuse: SpeechReply = (call) => {
  throw new KernelError(SPEECH_ERROR_CODES.unreachable, `service ${call.serviceId} unreachable (ECONNREFUSED)`, { retryable: true });
};

export const httpError =
  (status: number): SpeechReply =>
  (call) => {
    throw new KernelError(SPEECH_ERROR_CODES.httpError, `service ${call.serviceId} answered ${status}`, { retryable: status >= 500, details: { status } });
  };

export const notOk: SpeechReply = (call) => {
  throw new KernelError(SPEECH_ERROR_CODES.notOk, `service ${call.serviceId} could not translate: Model not loaded`, { retryable: true });
};

export const clientTimeout: SpeechReply = (call) => {
  throw new TimeoutError(SPEECH_ERROR_CODES.timeout, `service ${call.serviceId} did not answer in time`);
};

/** Answers `reply` after `ms` on `clock` (aborts early with the signal). */
export const after =
  (clock: Clock, ms: number, reply: SpeechReply = defaultReply): SpeechReply =>
  (call) =>
    new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        try {
          resolve(reply(call));
        } catch (err) {
          reject(err);
        }
      }, ms);
      call.signal.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        reject(new AbortedError(`${call.op} aborted`));
      }, { once: true });
    });

export const answer =
  (value: unknown): SpeechReply =>
  () =>
    value;

export class FakeSpeech implements SpeechPort {
  readonly calls: FakeSpeechCall[] = [];
  readonly forgotten: string[] = [];
  closed = false;
  private readonly replies = new Map<string, SpeechReply>();

  /** Scripts every call to `serviceId` (replacing an earlier script). */
  script(serviceId: string, reply: SpeechReply): this {
    this.replies.set(serviceId, reply);
    return this;
  }

  callsTo(serviceId: string): FakeSpeechCall[] {
    return this.calls.filter((c) => c.serviceId === serviceId);
  }

  transcribe(service: SpeechServiceRef, request: AsrUtteranceRequest, signal: AbortSignal): Promise<AsrUtteranceResponse> {
    return this.run('transcribe', service, request, signal) as Promise<AsrUtteranceResponse>;
  }

  translate(service: SpeechServiceRef, request: TranslateRequest, signal: AbortSignal): Promise<TranslateSuccess> {
    return this.run('translate', service, request, signal) as Promise<TranslateSuccess>;
  }

  synthesize(service: SpeechServiceRef, request: TtsRequest, signal: AbortSignal): Promise<SynthesizedAudio> {
    return this.run('synthesize', service, request, signal) as Promise<SynthesizedAudio>;
  }

  forget(serviceId: string): void {
    this.forgotten.push(serviceId);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async run(op: SpeechOp, service: SpeechServiceRef, request: FakeSpeechCall['request'], signal: AbortSignal): Promise<unknown> {
    const call: FakeSpeechCall = { op, serviceId: service.id, service, request, signal, outcome: 'pending' };
    this.calls.push(call);
    const reply = this.replies.get(service.id) ?? defaultReply;
    try {
      const value = await reply(call);
      call.outcome = 'ok';
      return value;
    } catch (err) {
      call.outcome = (err as { code?: string }).code ?? 'error';
      throw err;
    }
  }
}
