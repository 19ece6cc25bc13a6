/**
 * The job machine wired to the node's ports: the audio workers (decode + VAD, encode), the service
 * registry (which service to call), the service control (on-demand start) and the speech services.
 * One logic for every job of the node (`jobLogic`): providing the actors rebuilds the whole machine,
 * which costs milliseconds, so it is done once; each actor's input names its job, and every log line
 * carries the job's ids. Transcripts and translations are logged only at debug, under `pii`
 * (STYLE.md §11).
 */
import { assign, fromPromise } from 'xstate';
import { isKernelError, KernelError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { AudioPort, SynthesizedAudio } from '../../kernel/ports/audio.port.js';
import type { ServiceControlPort, ServiceRegistryPort } from '../../kernel/ports/service-registry.port.js';
import type { SpeechPort, SpeechServiceRef, TranslateSuccess } from '../../kernel/ports/speech.port.js';
import { jobMachine } from '../../machines/job.machine.js';
import type { JobContext } from '../../machines/job.machine.js';
import type {
  CallInput,
  ChooseServiceParams,
  ChosenService,
  EncodedTts,
  EncodeSpeechInput,
  JobIds,
  PrepareAudioInput,
  PreparedUtterance,
  StageChoice,
  StartServiceInput,
} from '../../machines/job.machine.js';
import { decodeBase64, encodeBase64 } from '../../protocol/base64.js';
import type { AsrUtteranceRequest, AsrUtteranceResponse, TranslateRequest, TtsRequest } from '../../protocol/service-api.schema.js';
import { chooseService, chosenServiceOf } from './service-choice.js';

/**
 * Calls in flight over every job of the node: per service (the load that `chooseService` balances)
 * and per service version (the versions the package manager must not remove).
 */
export class ServiceLoad {
  private readonly counts = new Map<string, number>();
  /** `serviceId` → version → calls in flight; bounded by the services and versions being called. */
  private readonly versions = new Map<string, Map<string, number>>();

  count = (serviceId: string): number => this.counts.get(serviceId) ?? 0;

  /** Versions of `serviceId` with calls in flight now. */
  versionsInUse(serviceId: string): ReadonlySet<string> {
    return new Set(this.versions.get(serviceId)?.keys());
  }

  async track<T>(service: SpeechServiceRef, call: () => Promise<T>): Promise<T> {
    const { id, version } = service;
    this.counts.set(id, this.count(id) + 1);
    if (version !== undefined) {
      const ofService = this.versions.get(id) ?? new Map<string, number>();
      ofService.set(version, (ofService.get(version) ?? 0) + 1);
      this.versions.set(id, ofService);
    }
    try {
      return await call();
    } finally {
      const left = this.count(id) - 1;
      if (left > 0) this.counts.set(id, left);
      else this.counts.delete(id);
      const ofService = version !== undefined ? this.versions.get(id) : undefined;
      if (ofService && version !== undefined) {
        const leftOfVersion = (ofService.get(version) ?? 1) - 1;
        if (leftOfVersion > 0) ofService.set(version, leftOfVersion);
        else ofService.delete(version);
        if (ofService.size === 0) this.versions.delete(id);
      }
    }
  }
}

export interface JobPorts {
  registry: ServiceRegistryPort;
  control: ServiceControlPort;
  audio: AudioPort;
  speech: SpeechPort;
  load: ServiceLoad;
  logger: Logger;
}

/** The job machine with its actors provided; one for all the jobs of a node. */
export function jobLogic(ports: JobPorts) {
  const logOf = (job: JobIds) => ports.logger.child({ actor: `job:${job.job_id}`, jobId: job.job_id, attemptId: job.attempt_id, sessionId: job.session_id, traceId: job.trace_id });
  const call = <T>(job: JobIds, op: string, service: SpeechServiceRef, run: () => Promise<T>): Promise<T> =>
    ports.load.track(service, run).catch((err: unknown) => {
      logOf(job).warn({ err, serviceId: service.id, op }, 'service call failed');
      throw err;
    });

  /** The stage's service, read from the registry as the job enters `selecting` (§8.4). */
  const choose = (params: ChooseServiceParams): StageChoice => {
    try {
      const choice = chooseService(ports.registry.list(), params.need, params.exclude, ports.load.count);
      logOf(params.job).debug({ stage: params.need.stage, choice: choice.kind, serviceId: choice.kind === 'running' ? choice.service.ref.id : choice.kind === 'startable' ? choice.serviceId : undefined, excluded: params.exclude }, 'service chosen');
      return choice;
    } catch (err) {
      logOf(params.job).error({ err, stage: params.need.stage }, 'service choice failed');
      return { kind: 'failed', code: isKernelError(err) ? err.code : 'INTERNAL_ERROR' };
    }
  };

  return jobMachine.provide({
    actions: {
      chooseService: assign(({ context }: { context: JobContext }, params: ChooseServiceParams) => ({ stage: { ...context.stage, choice: choose(params) } })),
    },
    actors: {
      prepareAudio: fromPromise<PreparedUtterance, PrepareAudioInput>(async ({ input, signal }) => {
        const bytes = decodeBase64(input.audio);
        if (bytes === undefined) throw new KernelError('INVALID_AUDIO_BASE64', 'job_assign.audio is not valid base64');
        const prepared = await ports.audio.prepare({ bytes, format: input.format, sampleRate: input.sampleRate, ...(input.paddingMs !== undefined ? { paddingMs: input.paddingMs } : {}) }, signal);
        logOf(input.job).debug({ speech: prepared.speech, durationMs: prepared.durationMs, inputDurationMs: prepared.inputDurationMs }, 'utterance prepared');
        // pcm16 little-endian is the in-memory layout of Int16Array on every platform Node runs on.
        const pcm = new Uint8Array(prepared.pcm.buffer, prepared.pcm.byteOffset, prepared.pcm.byteLength);
        return { speech: prepared.speech, pcm16Base64: encodeBase64(pcm), durationMs: prepared.durationMs };
      }),
      startService: fromPromise<ChosenService, StartServiceInput>(async ({ input, signal }) => {
        logOf(input.job).info({ serviceId: input.serviceId, stage: input.need.stage }, 'starting a service on demand');
        const snapshot = await ports.control.ensureRunning(input.serviceId, signal);
        const chosen = chosenServiceOf(snapshot, input.need);
        if (!chosen) throw new KernelError('SERVICE_NOT_RUNNING', `service ${input.serviceId} has no address after its start`, { retryable: true, details: { serviceId: input.serviceId } });
        return chosen;
      }),
      transcribe: fromPromise<AsrUtteranceResponse, CallInput<AsrUtteranceRequest>>(async ({ input, signal }) => {
        const response = await call(input.job, 'transcribe', input.service, () => ports.speech.transcribe(input.service, input.request, signal));
        logOf(input.job).debug({ serviceId: input.service.id, language: response.language, pii: { text: response.text } }, 'transcript');
        return response;
      }),
      translate: fromPromise<TranslateSuccess, CallInput<TranslateRequest>>(async ({ input, signal }) => {
        const response = await call(input.job, 'translate', input.service, () => ports.speech.translate(input.service, input.request, signal));
        logOf(input.job).debug({ serviceId: input.service.id, pii: { text: response.text } }, 'translation');
        return response;
      }),
      synthesize: fromPromise<SynthesizedAudio, CallInput<TtsRequest>>(async ({ input, signal }) => {
        const audio = await call(input.job, 'synthesize', input.service, () => ports.speech.synthesize(input.service, input.request, signal));
        logOf(input.job).debug({ serviceId: input.service.id, voice: input.request.voice, kind: audio.kind }, 'speech synthesized');
        return audio;
      }),
      encodeSpeech: fromPromise<EncodedTts, EncodeSpeechInput>(async ({ input, signal }) => {
        const encoded = await ports.audio.encode({ audio: input.audio, format: input.format }, signal);
        return { base64: encodeBase64(encoded.bytes), durationMs: encoded.durationMs };
      }),
    },
  });
}
