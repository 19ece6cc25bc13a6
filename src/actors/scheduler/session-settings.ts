/**
 * A session's settings, from its `session_init` (PROTOCOL.md §6.1–§6.2), and what they make of each
 * utterance: the `job_assign` fields (§2.7) and the pool query (§5.2). The session's languages,
 * mode and two-way settings apply to every job; an utterance brings only its audio, cut flags,
 * padding, turn, and optionally a pipeline and trace id (§6.5).
 */
import type { UtteranceJob } from '../../machines/session.machine.js';
import { DEFAULT_PARTIAL_UPDATE_INTERVAL_MS, DEFAULT_PIPELINE, negotiateAudioFormat, newUuid, normalizeLanguage, SESSION_CHANNEL_COUNT, SESSION_PROTOCOL_VERSION, SESSION_SAMPLE_RATE, sessionMode } from '../../protocol/index.js';
import type { FeatureFlags, JobAssign, Pipeline, SessionInit, SessionInitAck, SessionMode } from '../../protocol/index.js';
import type { PoolQuery } from './pool-membership.js';

/** TTS formats a session may ask for (§6.1); anything else negotiates `opus`. */
const TTS_FORMATS: ReadonlySet<string> = new Set(['opus', 'pcm16', 'wav']);

export interface SessionSettings {
  sessionId: string;
  traceId: string;
  srcLang: string;
  tgtLang: string;
  dialect?: string;
  features?: FeatureFlags;
  mode: SessionMode;
  langA?: string;
  langB?: string;
  autoLangs?: string[];
  enableStreamingAsr: boolean;
  partialUpdateIntervalMs: number;
  /** Negotiated audio of `audio_chunk` (§6.2). */
  audioFormat: 'opus' | 'pcm16';
  sampleRate: number;
  /** Negotiated TTS format, when the client asked for one (§6.2 `negotiated_tts_format`). */
  ttsFormat?: string;
  /** The session's default pipeline (§5.2 [ext]). */
  pipeline: Pipeline;
}

/** Settings of a new session (its id is given by the sessions supervisor). */
export function settingsOf(init: SessionInit): Omit<SessionSettings, 'sessionId'> {
  const [firstAuto, secondAuto] = init.auto_langs ?? [];
  const langA = init.lang_a ?? firstAuto;
  const langB = init.lang_b ?? secondAuto;
  return {
    traceId: init.trace_id ?? newUuid(),
    srcLang: init.src_lang,
    tgtLang: init.tgt_lang,
    ...(init.dialect !== undefined ? { dialect: init.dialect } : {}),
    ...(init.features ? { features: init.features } : {}),
    mode: sessionMode(init.mode),
    ...(langA !== undefined ? { langA } : {}),
    ...(langB !== undefined ? { langB } : {}),
    ...(init.auto_langs ? { autoLangs: init.auto_langs } : {}),
    enableStreamingAsr: init.enable_streaming_asr ?? true,
    partialUpdateIntervalMs: init.partial_update_interval_ms ?? DEFAULT_PARTIAL_UPDATE_INTERVAL_MS,
    audioFormat: negotiateAudioFormat(init.audio_format),
    sampleRate: SESSION_SAMPLE_RATE,
    ...(init.tts_format !== undefined ? { ttsFormat: TTS_FORMATS.has(init.tts_format) ? init.tts_format : 'opus' } : {}),
    pipeline: init.pipeline ?? { ...DEFAULT_PIPELINE },
  };
}

export function initAckOf(settings: SessionSettings): SessionInitAck {
  return {
    type: 'session_init_ack',
    session_id: settings.sessionId,
    message: 'session created',
    trace_id: settings.traceId,
    protocol_version: SESSION_PROTOCOL_VERSION,
    use_binary_frame: false,
    negotiated_codec: settings.audioFormat,
    negotiated_audio_format: settings.audioFormat,
    negotiated_sample_rate: SESSION_SAMPLE_RATE,
    negotiated_channel_count: SESSION_CHANNEL_COUNT,
    ...(settings.ttsFormat !== undefined ? { negotiated_tts_format: settings.ttsFormat } : {}),
  };
}

/** The `job_assign` of an utterance, without its ids; `audio` is its base64. */
export function jobTemplateOf(s: SessionSettings, job: UtteranceJob, audio: string): Omit<JobAssign, 'type' | 'job_id' | 'attempt_id'> {
  return {
    session_id: s.sessionId,
    trace_id: job.traceId ?? s.traceId,
    utterance_index: job.index,
    src_lang: s.srcLang,
    tgt_lang: s.tgtLang,
    dialect: s.dialect,
    features: s.features,
    pipeline: job.pipeline ?? s.pipeline,
    audio,
    audio_format: job.format,
    sample_rate: job.sampleRate,
    mode: s.mode,
    lang_a: s.langA,
    lang_b: s.langB,
    auto_langs: s.autoLangs,
    enable_streaming_asr: s.enableStreamingAsr,
    partial_update_interval_ms: s.partialUpdateIntervalMs,
    padding_ms: job.paddingMs,
    // §1.4: the flags are sent only when true.
    is_manual_cut: job.flags.isManualCut,
    is_timeout_triggered: job.flags.isTimeoutTriggered,
    is_max_duration_triggered: job.flags.isMaxDurationTriggered,
    turn_id: job.turnId,
    tts_format: s.ttsFormat,
  };
}

/** The pool a job needs (§5.2): both directions for a two-way session with its two languages. */
export function poolQueryOf(s: SessionSettings, pipeline: Pipeline): PoolQuery {
  const stages = { use_nmt: pipeline.use_nmt, use_tts: pipeline.use_tts };
  if (s.mode === 'two_way_auto' && s.langA !== undefined && s.langB !== undefined) {
    return { mode: 'two_way', langA: normalizeLanguage(s.langA), langB: normalizeLanguage(s.langB), pipeline: stages };
  }
  return { mode: 'one_way', src: normalizeLanguage(s.srcLang), tgt: normalizeLanguage(s.tgtLang), pipeline: stages };
}
