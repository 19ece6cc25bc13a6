/**
 * One job on the node, from `job_assign` to its one `job_result` (PROTOCOL.md §2.7–§2.11, §8, §9).
 *
 * ```
 * (entry: job_ack)
 * running (job_started; deadline = job_timeout_ms − 5 s from assign → failed "deadline")
 * ├ preparing   decode + VAD on the audio workers (no speech → empty)
 * ├ asr ┐       each stage: selecting → calling ──(fails, times out)──► selecting (next service)
 * ├ nmt ├─►routing         selecting → starting (on-demand start of a stopped service) → calling
 * └ tts ┘                  selecting finds nothing left → failed (§8.4)
 *       tts: calling → encoding (the session's format on the audio workers)
 * succeeded | empty (ASR_EMPTY) | failed   — final, each sends the job_result
 * cancelled                                 — final, sends nothing (§2.11)
 * ```
 *
 * The machine does no I/O. Its invoked actors are placeholders that `src/actors/node/job.actor.ts`
 * provides: `prepareAudio`, `startService` (on-demand start), `transcribe`, `translate`,
 * `synthesize`, `encodeSpeech`; so is the `chooseService` action, which picks the stage's service
 * (least in flight among the eligible ones, §8.4) from the node's registry as `selecting` is
 * entered: a synchronous read, so not an actor of its own (that cost an actor and three events per
 * stage). Leaving a state stops its actor, which aborts its signal: a timeout, the deadline and
 * `job.cancel` abort the HTTP call or worker task in flight. Everything the node sends is emitted as `link.send`, and the end as
 * `job.finished`; the jobs actor forwards both to the bus. `clock` is read only to time the stages.
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import type { BusEventOf } from '../kernel/bus-events.js';
import type { Clock } from '../kernel/clock.js';
import { ActorNotProvidedError, isKernelError } from '../kernel/errors.js';
import type { AudioFormat, SynthesizedAudio } from '../kernel/ports/audio.port.js';
import type { SpeechServiceRef, TranslateSuccess } from '../kernel/ports/speech.port.js';
import { isBase64 } from '../protocol/base64.js';
import type { JobAssign, JobError, JobExtra } from '../protocol/node-jobs.schema.js';
import type { AsrUtteranceRequest, AsrUtteranceResponse, TranslateRequest, TtsRequest } from '../protocol/service-api.schema.js';
import { jobAckOf, jobResultOf, jobStartedOf, modelNotAvailable, NO_STAGE_TIME, processingError, stageFailedError } from './job-messages.js';
import type { StageTimingsMs, UnavailableDetails } from './job-messages.js';
import { languagesAfterAsr, needOf, planJob, voiceFor, wantsTranslation } from './job-plan.js';
import type { JobPlan, ServiceNeed, StageName } from './job-plan.js';

export interface JobTimeouts {
  /** One ASR call, in ms (§9.1: 20 000). */
  asrMs: number;
  /** One NMT call, in ms (§9.1: 10 000). */
  nmtMs: number;
  /** One TTS call, in ms (§9.1: 15 000). */
  ttsMs: number;
  /** From assign to the deadline, in ms: `job_timeout_ms` − 5 000 (§9.1). */
  deadlineMs: number;
}

export const DEFAULT_JOB_TIMEOUTS = { asrMs: 20_000, nmtMs: 10_000, ttsMs: 15_000, deadlineMs: 55_000 } as const satisfies JobTimeouts;

export interface JobInput {
  job: JobAssign;
  nodeId: string;
  clock: Pick<Clock, 'now'>;
  timeouts: JobTimeouts;
  /** When the node received the `job_assign`, epoch ms. Default: now. */
  receivedAtMs?: number;
}

/** The utterance ready for ASR: 16 kHz pcm16, trimmed to the speech, as b64 (§9.2). */
export interface PreparedUtterance {
  speech: boolean;
  pcm16Base64: string;
  durationMs: number;
}

/** A service picked for a call, with what the call needs of its snapshot. */
export interface ChosenService {
  ref: SpeechServiceRef;
  version?: string;
  /** TTS: the service's declared voices for the target language (§9.4). */
  voices: string[];
  /** Bound of an on-demand start, in ms. */
  startupTimeoutMs: number;
}

export type ServiceChoice =
  | { kind: 'running'; service: ChosenService }
  | { kind: 'startable'; serviceId: string; startupTimeoutMs: number }
  | { kind: 'none'; unavailable: UnavailableDetails };

export interface EncodedTts {
  base64: string;
  durationMs: number;
}

/**
 * The job an invoked actor works for, in every actor's input: the actors are provided once per node
 * (providing them per job rebuilds the whole machine, milliseconds each), and their log lines carry
 * these ids.
 */
export type JobIds = Pick<JobAssign, 'job_id' | 'attempt_id' | 'session_id' | 'trace_id'>;
export type PrepareAudioInput = { job: JobIds; audio: string; format: AudioFormat; sampleRate: number; paddingMs?: number };
export type ChooseServiceParams = { job: JobIds; need: ServiceNeed; exclude: string[] };
/** What `chooseService` found for the stage, or why it could not choose (the job then fails). */
export type StageChoice = ServiceChoice | { kind: 'failed'; code: string };
export type StartServiceInput = { job: JobIds; serviceId: string; need: ServiceNeed };
export type CallInput<TRequest> = { job: JobIds; service: SpeechServiceRef; request: TRequest };
export type EncodeSpeechInput = { job: JobIds; audio: SynthesizedAudio; format: AudioFormat };

export type JobEvent =
  /** `job_cancel` for this attempt (§2.11): stop, send nothing. */
  | { type: 'job.cancel'; reason?: string }
  /** The jobs supervisor stops: a job finishes (bounded by its deadline) or is stopped by force. */
  | { type: 'supervisor.shutdown' };

export type JobEmitted = BusEventOf<'link.send'> | BusEventOf<'job.finished'>;

export type JobStatus = 'succeeded' | 'empty' | 'failed' | 'cancelled';

export interface JobOutput {
  status: JobStatus;
  code?: string;
}

/** What the current service stage has done so far; a fresh one as each stage begins. */
export interface StageState {
  startedAtMs: number;
  /** Services of this stage that failed (or failed to start), in order. */
  tried: string[];
  /** Calls made in this stage. */
  calls: number;
  current: ChosenService | undefined;
  /** What `chooseService` answered on the last entry to `selecting`. */
  choice: StageChoice | undefined;
  starting: { serviceId: string; startupTimeoutMs: number } | undefined;
  synthesized: SynthesizedAudio | undefined;
  lastFailure: { serviceId: string; code: string } | undefined;
}

const freshStage = (startedAtMs: number): StageState => ({ startedAtMs, tried: [], calls: 0, current: undefined, choice: undefined, starting: undefined, synthesized: undefined, lastFailure: undefined });

/**
 * At most 19 top-level fields: every `assign` makes a new context with `Object.assign({}, …)`, and
 * V8 turns an object built that way into a slow dictionary past 19 properties (each copy then costs
 * tens of microseconds instead of one or two). Fields that change together are grouped (`stage`).
 */
export interface JobContext {
  job: JobAssign;
  nodeId: string;
  clock: Pick<Clock, 'now'>;
  timeouts: JobTimeouts;
  receivedAtMs: number;
  plan: JobPlan;
  /** Effective languages (a two-way job's source is known after ASR). */
  src: string;
  tgt: string;
  utterance: PreparedUtterance | undefined;
  textAsr: string | undefined;
  textTranslated: string | undefined;
  ttsAudio: string | undefined;
  asrExtra: Pick<JobExtra, 'language_probability' | 'language_probabilities'>;
  stagesDone: StageName[];
  timings: StageTimingsMs;
  stage: StageState;
  error: JobError | undefined;
  status: JobStatus | undefined;
}

const unprovided = (name: string) => async (): Promise<never> => {
  throw new ActorNotProvidedError(name);
};

const codeOf = (error: unknown) => (isKernelError(error) ? error.code : 'INTERNAL_ERROR');

const timeoutOf = (context: JobContext, stage: StageName) => (stage === 'asr' ? context.timeouts.asrMs : stage === 'nmt' ? context.timeouts.nmtMs : context.timeouts.ttsMs);

function addStageTime(timings: StageTimingsMs, stage: StageName, ms: number): StageTimingsMs {
  switch (stage) {
    case 'asr':
      return { ...timings, asr_ms: timings.asr_ms + ms };
    case 'nmt':
      return { ...timings, nmt_ms: timings.nmt_ms + ms };
    case 'tts':
      return { ...timings, tts_ms: timings.tts_ms + ms };
    default: {
      const never: never = stage;
      return never;
    }
  }
}

function stageNeed(context: JobContext, stage: StageName): ServiceNeed {
  return needOf(stage, context.plan, context.src, context.tgt);
}

function asrRequestOf(context: JobContext): AsrUtteranceRequest {
  const { job } = context;
  return {
    job_id: job.job_id,
    src_lang: context.src,
    // §9.2: the node always decodes to pcm16 at 16 kHz first. `padding_ms` is already appended by the VAD step.
    audio: context.utterance?.pcm16Base64 ?? '',
    audio_format: 'pcm16',
    sample_rate: 16_000,
    tgt_lang: context.tgt,
    task: 'transcribe',
    trace_id: job.trace_id,
    ...(job.context_text ? { context_text: job.context_text } : {}),
  };
}

function ttsRequestOf(context: JobContext): TtsRequest {
  return { text: context.textTranslated ?? context.textAsr ?? '', voice: voiceFor(context.tgt, context.stage.current?.voices ?? []), language: context.tgt };
}

function resultOf(context: JobContext, success: boolean, extra?: Omit<JobExtra, 'service_timings'>) {
  return jobResultOf(context.job, context.nodeId, {
    success,
    ...(context.textAsr !== undefined ? { textAsr: context.textAsr } : {}),
    ...(context.textTranslated !== undefined ? { textTranslated: context.textTranslated } : {}),
    ...(context.ttsAudio !== undefined ? { ttsAudio: context.ttsAudio } : {}),
    ttsFormat: context.plan.ttsFormat,
    ...(context.error ? { error: context.error } : {}),
    extra: { ...context.asrExtra, ...extra },
    timings: context.timings,
    receivedAtMs: context.receivedAtMs,
    completedAtMs: context.clock.now(),
  });
}

const jobSetup = setup({
  types: {} as { context: JobContext; events: JobEvent; input: JobInput; emitted: JobEmitted; output: JobOutput },
  actors: {
    prepareAudio: fromPromise<PreparedUtterance, PrepareAudioInput>(unprovided('prepareAudio')),
    startService: fromPromise<ChosenService, StartServiceInput>(unprovided('startService')),
    transcribe: fromPromise<AsrUtteranceResponse, CallInput<AsrUtteranceRequest>>(unprovided('transcribe')),
    translate: fromPromise<TranslateSuccess, CallInput<TranslateRequest>>(unprovided('translate')),
    synthesize: fromPromise<SynthesizedAudio, CallInput<TtsRequest>>(unprovided('synthesize')),
    encodeSpeech: fromPromise<EncodedTts, EncodeSpeechInput>(unprovided('encodeSpeech')),
  },
  delays: {
    deadline: ({ context }) => Math.max(0, context.receivedAtMs + context.timeouts.deadlineMs - context.clock.now()),
    asrCall: ({ context }) => timeoutOf(context, 'asr'),
    nmtCall: ({ context }) => timeoutOf(context, 'nmt'),
    ttsCall: ({ context }) => timeoutOf(context, 'tts'),
    startup: ({ context }) => context.stage.starting?.startupTimeoutMs ?? 0,
  },
  guards: {
    skipsAudio: ({ context }) => !context.plan.useAsr,
    audioUnreadable: ({ context }) => context.plan.audioFormat === undefined || !isBase64(context.job.audio),
    nothingCalled: ({ context }) => context.stage.calls === 0,
    wantsNmt: ({ context }) => wantsTranslation(context.plan, context.src, context.tgt) && !context.stagesDone.includes('nmt'),
    wantsTts: ({ context }) => context.plan.useTts && context.textAsr !== undefined && !context.stagesDone.includes('tts'),
    isEncodeRefusal: (_, params: { error: unknown }) => codeOf(params.error) === 'AUDIO_ENCODE_FAILED',
    chose: ({ context }, params: { kind: StageChoice['kind'] }) => context.stage.choice?.kind === params.kind,
  },
  actions: {
    sendAck: emit(({ context }) => ({ type: 'link.send' as const, message: jobAckOf(context.job, context.nodeId) })),
    sendStarted: emit(({ context }) => ({ type: 'link.send' as const, message: jobStartedOf(context.job, context.nodeId) })),
    enterStage: assign(({ context }) => ({ stage: freshStage(context.clock.now()) })),
    // Provided by the node (job.actor.ts); unprovided, the stage fails as a failed choice would.
    chooseService: assign(({ context }, _params: ChooseServiceParams) => ({ stage: { ...context.stage, choice: { kind: 'failed' as const, code: 'ACTOR_NOT_PROVIDED' } } })),
    leaveStage: assign(({ context }, params: { stage: StageName }) => ({ timings: addStageTime(context.timings, params.stage, context.clock.now() - context.stage.startedAtMs) })),
    finishStage: assign(({ context }, params: { stage: StageName }) => ({ stagesDone: [...context.stagesDone, params.stage] })),
    useService: assign(({ context }, params: { service: ChosenService }) => ({ stage: { ...context.stage, current: params.service, starting: undefined } })),
    countCall: assign(({ context }) => ({ stage: { ...context.stage, calls: context.stage.calls + 1 } })),
    planStart: assign(({ context }, params: { serviceId: string; startupTimeoutMs: number }) => ({ stage: { ...context.stage, starting: params, current: undefined } })),
    /** The current service failed a call (or its start): never call it again in this stage. */
    serviceFailed: assign(({ context }, params: { code: string }) => {
      const { stage } = context;
      const serviceId = stage.current?.ref.id ?? stage.starting?.serviceId ?? '';
      return { stage: { ...stage, tried: [...stage.tried, serviceId], lastFailure: { serviceId, code: params.code }, current: undefined, starting: undefined, synthesized: undefined } };
    }),
    fail: assign((_, params: { error: JobError }) => ({ error: params.error })),
    recordAsr: assign(({ context }, params: { response: AsrUtteranceResponse }) => {
      const { response } = params;
      const languages = languagesAfterAsr(context.plan, response.language);
      const text = response.text.trim();
      return {
        textAsr: text,
        // Source and target are one language: the transcript is the translation (NMT is skipped, §5.2).
        ...(context.plan.useNmt && languages.src === languages.tgt ? { textTranslated: text } : {}),
        ...languages,
        asrExtra: {
          ...(response.language_probability != null ? { language_probability: response.language_probability } : {}),
          ...(response.language_probabilities != null ? { language_probabilities: response.language_probabilities } : {}),
        },
      };
    }),
    sendResult: emit(({ context }) => ({ type: 'link.send' as const, message: resultOf(context, context.status !== 'failed', context.status === 'empty' ? { reason: 'ASR_EMPTY' } : undefined) })),
    announceEnd: emit(({ context }) => ({
      type: 'job.finished' as const,
      jobId: context.job.job_id,
      attemptId: context.job.attempt_id,
      success: context.status === 'succeeded' || context.status === 'empty',
      ...(context.error ? { code: context.error.code } : context.status === 'cancelled' ? { code: 'CANCELLED' } : {}),
      totalMs: Math.max(0, context.clock.now() - context.receivedAtMs),
    })),
  },
});

/**
 * The states of one service stage: pick a service (least in flight, not yet tried), or start one on
 * demand when none runs, then call it; a failed or timed-out call goes back to picking (§8.4).
 */
function serviceStage<TCalling extends Parameters<typeof jobSetup.createStateConfig>[0]>(stage: StageName, calling: TCalling) {
  return jobSetup.createStateConfig({
    initial: 'selecting',
    entry: 'enterStage',
    exit: { type: 'leaveStage', params: { stage } },
    states: {
      selecting: {
        entry: { type: 'chooseService', params: ({ context }) => ({ job: context.job, need: stageNeed(context, stage), exclude: context.stage.tried }) },
        always: [
          { guard: { type: 'chose', params: { kind: 'running' } }, target: 'calling', actions: { type: 'useService', params: ({ context }) => ({ service: (context.stage.choice as Extract<ServiceChoice, { kind: 'running' }>).service }) } },
          {
            guard: { type: 'chose', params: { kind: 'startable' } },
            target: 'starting',
            actions: {
              type: 'planStart',
              params: ({ context }) => {
                const choice = context.stage.choice as Extract<ServiceChoice, { kind: 'startable' }>;
                return { serviceId: choice.serviceId, startupTimeoutMs: choice.startupTimeoutMs };
              },
            },
          },
          {
            guard: { type: 'chose', params: { kind: 'failed' } },
            target: '#job.failed',
            actions: { type: 'fail', params: ({ context }) => ({ error: processingError('service choice failed', { stage, code: (context.stage.choice as Extract<StageChoice, { kind: 'failed' }>).code }) }) },
          },
          // §8.4: a stage that finds no service to call at all → MODEL_NOT_AVAILABLE (the scheduler reassigns).
          {
            guard: 'nothingCalled',
            target: '#job.failed',
            actions: {
              type: 'fail',
              params: ({ context }) => {
                const { choice } = context.stage;
                return { error: choice?.kind === 'none' ? modelNotAvailable(choice.unavailable) : modelNotAvailable({ service_id: stage, reason: 'not_installed' }) };
              },
            },
          },
          { target: '#job.failed', actions: { type: 'fail', params: ({ context }) => ({ error: stageFailedError(stage, context.stage.lastFailure) }) } },
        ],
      },
      starting: {
        invoke: {
          id: 'startService',
          src: 'startService',
          input: ({ context }) => ({ job: context.job, serviceId: context.stage.starting?.serviceId ?? '', need: stageNeed(context, stage) }),
          onDone: { target: 'calling', actions: { type: 'useService', params: ({ event }) => ({ service: event.output }) } },
          onError: { target: 'selecting', actions: { type: 'serviceFailed', params: ({ event }) => ({ code: codeOf(event.error) }) } },
        },
        after: { startup: { target: 'selecting', actions: { type: 'serviceFailed', params: { code: 'SERVICE_START_TIMEOUT' } } } },
      },
      calling,
    },
  });
}

export const jobMachine = jobSetup.createMachine({
  id: 'job',
  context: ({ input }) => {
    const plan = planJob(input.job);
    return {
      job: input.job,
      nodeId: input.nodeId,
      clock: input.clock,
      timeouts: input.timeouts,
      receivedAtMs: input.receivedAtMs ?? input.clock.now(),
      plan,
      src: plan.src,
      tgt: plan.tgt,
      utterance: undefined,
      textAsr: undefined,
      textTranslated: undefined,
      ttsAudio: undefined,
      asrExtra: {},
      stagesDone: [],
      timings: { ...NO_STAGE_TIME },
      stage: freshStage(0),
      error: undefined,
      status: undefined,
    };
  },
  // §8.2 check 6: the acceptance checks passed before this machine was started.
  entry: 'sendAck',
  on: { 'job.cancel': '.cancelled' },
  initial: 'running',
  states: {
    running: {
      entry: 'sendStarted',
      // §9.1: no call, failover or on-demand start after the deadline; answer before the scheduler's timeout.
      after: { deadline: { target: 'failed', actions: { type: 'fail', params: { error: processingError('job deadline passed before the pipeline finished', { reason: 'deadline' }) } } } },
      initial: 'preparing',
      states: {
        preparing: {
          always: [
            { guard: 'skipsAudio', target: 'routing' },
            // §7.4: undecodable base64 in job_assign.audio fails the job.
            {
              guard: 'audioUnreadable',
              target: '#job.failed',
              actions: {
                type: 'fail',
                params: ({ context }) => ({
                  error: context.plan.audioFormat === undefined
                    ? processingError(`unsupported audio_format "${context.job.audio_format}"`, { reason: 'unsupported_audio_format' })
                    : processingError('job_assign.audio is not valid base64', { reason: 'invalid_base64' }),
                }),
              },
            },
          ],
          invoke: {
            id: 'prepareAudio',
            src: 'prepareAudio',
            input: ({ context }) => ({
              job: context.job,
              audio: context.job.audio,
              format: context.plan.audioFormat ?? 'opus',
              sampleRate: context.job.sample_rate,
              ...(context.job.padding_ms != null ? { paddingMs: context.job.padding_ms } : {}),
            }),
            onDone: [
              // §8.1, §12 item 35: no speech → ASR_EMPTY without calling ASR.
              { guard: ({ event }) => !event.output.speech, target: '#job.empty', actions: assign({ textAsr: '' }) },
              { target: 'asr', actions: assign({ utterance: ({ event }) => event.output }) },
            ],
            onError: { target: '#job.failed', actions: { type: 'fail', params: ({ event }) => ({ error: processingError('the utterance audio could not be decoded', { reason: 'audio', code: codeOf(event.error) }) }) } },
          },
        },
        asr: serviceStage('asr', {
          entry: 'countCall',
          invoke: {
            id: 'transcribe',
            src: 'transcribe',
            input: ({ context }) => ({ job: context.job, service: context.stage.current!.ref, request: asrRequestOf(context) }),
            onDone: [
              { guard: ({ event }) => event.output.text.trim() === '', target: '#job.empty', actions: { type: 'recordAsr', params: ({ event }) => ({ response: event.output }) } },
              { target: '#job.running.routing', actions: [{ type: 'recordAsr', params: ({ event }) => ({ response: event.output }) }, { type: 'finishStage', params: { stage: 'asr' } }] },
            ],
            onError: { target: 'selecting', actions: { type: 'serviceFailed', params: ({ event }) => ({ code: codeOf(event.error) }) } },
          },
          after: { asrCall: { target: 'selecting', actions: { type: 'serviceFailed', params: { code: 'SERVICE_CALL_TIMEOUT' } } } },
        }),
        nmt: serviceStage('nmt', {
          entry: 'countCall',
          invoke: {
            id: 'translate',
            src: 'translate',
            input: ({ context }) => ({ job: context.job, service: context.stage.current!.ref, request: { src_lang: context.src, tgt_lang: context.tgt, text: context.textAsr ?? '' } }),
            onDone: {
              target: '#job.running.routing',
              actions: [assign({ textTranslated: ({ event }) => event.output.text.trim() }), { type: 'finishStage', params: { stage: 'nmt' } }],
            },
            onError: { target: 'selecting', actions: { type: 'serviceFailed', params: ({ event }) => ({ code: codeOf(event.error) }) } },
          },
          after: { nmtCall: { target: 'selecting', actions: { type: 'serviceFailed', params: { code: 'SERVICE_CALL_TIMEOUT' } } } },
        }),
        tts: serviceStage('tts', {
          initial: 'synthesizing',
          states: {
            synthesizing: {
              entry: 'countCall',
              invoke: {
                id: 'synthesize',
                src: 'synthesize',
                input: ({ context }) => ({ job: context.job, service: context.stage.current!.ref, request: ttsRequestOf(context) }),
                onDone: { target: 'encoding', actions: assign(({ context, event }) => ({ stage: { ...context.stage, synthesized: event.output } })) },
                onError: { target: '#job.running.tts.selecting', actions: { type: 'serviceFailed', params: ({ event }) => ({ code: codeOf(event.error) }) } },
              },
              after: { ttsCall: { target: '#job.running.tts.selecting', actions: { type: 'serviceFailed', params: { code: 'SERVICE_CALL_TIMEOUT' } } } },
            },
            encoding: {
              invoke: {
                id: 'encodeSpeech',
                src: 'encodeSpeech',
                input: ({ context }) => ({ job: context.job, audio: context.stage.synthesized!, format: context.plan.ttsFormat }),
                onDone: {
                  target: '#job.running.routing',
                  actions: [assign(({ context, event }) => ({ ttsAudio: event.output.base64, stage: { ...context.stage, synthesized: undefined } })), { type: 'finishStage', params: { stage: 'tts' } }],
                },
                onError: [
                  // Speech the service sent that cannot be read (a malformed WAV) is that service's failed call.
                  { guard: { type: 'isEncodeRefusal', params: ({ event }) => ({ error: event.error }) }, target: '#job.running.tts.selecting', actions: { type: 'serviceFailed', params: { code: 'AUDIO_ENCODE_FAILED' } } },
                  { target: '#job.failed', actions: { type: 'fail', params: ({ event }) => ({ error: processingError('synthesized speech could not be encoded', { reason: 'audio', code: codeOf(event.error) }) }) } },
                ],
              },
            },
          },
        }),
        routing: {
          always: [
            { guard: 'wantsNmt', target: 'nmt' },
            { guard: 'wantsTts', target: 'tts' },
            { target: '#job.succeeded' },
          ],
        },
      },
    },
    succeeded: { type: 'final', entry: [assign({ status: 'succeeded' as const }), 'sendResult', 'announceEnd'] },
    empty: { type: 'final', entry: [assign({ status: 'empty' as const, textAsr: '', textTranslated: '', ttsAudio: '' }), 'sendResult', 'announceEnd'] },
    failed: { type: 'final', entry: [assign({ status: 'failed' as const }), 'sendResult', 'announceEnd'] },
    // §2.11: no job_result for a cancelled attempt.
    cancelled: { type: 'final', entry: [assign({ status: 'cancelled' as const }), 'announceEnd'] },
  },
  output: ({ context }) => ({ status: context.status ?? 'failed', ...(context.error ? { code: context.error.code } : {}) }),
});

