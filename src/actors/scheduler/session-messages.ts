/**
 * What the scheduler sends a client about its utterances (PROTOCOL.md §6.7–§6.8), built from job
 * results and resolutions: `translation_result` (known `extra` keys only, `tts_format` `pcm16`
 * when the node sent none, `service_timings` from `extra` or `processing_time_ms`),
 * `missing_result`, `ui_event` and `error`; and how a job result resolves its index (§5.6).
 */
import { forwardedExtra } from '../../protocol/index.js';
import type { JobError, JobResult, MissingResult, SessionError, TranslationResult, UiEvent, UiEventType } from '../../protocol/index.js';
import type { MissingReason, UtteranceOutcome } from '../../machines/session.machine.js';

/** `extra.reason` values of an empty result (§8.1). */
const EMPTY_REASONS: ReadonlySet<string> = new Set(['ASR_EMPTY', 'NO_TEXT_ASSIGNED']);

const blank = (text: string | undefined) => (text ?? '').trim() === '';

/** An empty result (§5.5): reason ASR_EMPTY / NO_TEXT_ASSIGNED, or a blank transcript. A complete one may still follow. */
export function isEmptyResult(result: JobResult): boolean {
  return EMPTY_REASONS.has(result.extra?.reason ?? '') || blank(result.text_asr);
}

/** How a successful job result resolves its index (§5.6). */
export function outcomeOfSuccess(jobId: string, result: JobResult): UtteranceOutcome {
  const reason = result.extra?.reason;
  if (reason !== undefined && EMPTY_REASONS.has(reason)) return { kind: 'empty', jobId };
  if (reason === undefined && (result.text_asr ?? '') === '' && (result.text_translated ?? '') === '' && (result.tts_audio ?? '') === '') return { kind: 'silence', jobId };
  return { kind: 'result', jobId, result };
}

/** `translation_result` (§6.7) for a session, sent at `sentAtMs`. */
export function translationResultOf(sessionId: string, result: JobResult, sentAtMs: number): TranslationResult {
  const timings = result.extra?.service_timings ?? (result.processing_time_ms !== undefined ? { total_ms: result.processing_time_ms } : undefined);
  return {
    type: 'translation_result',
    session_id: sessionId,
    job_id: result.job_id,
    trace_id: result.trace_id,
    utterance_index: result.utterance_index,
    text_asr: result.text_asr ?? '',
    text_translated: result.text_translated ?? '',
    tts_audio: result.tts_audio ?? '',
    // §6.7 [compat]: a node that names no format is a Lingua node sending pcm16.
    tts_format: result.tts_format ?? 'pcm16',
    extra: forwardedExtra(result.extra),
    service_timings: timings,
    scheduler_sent_at_ms: sentAtMs,
    asr_quality_level: result.asr_quality_level,
    reason_codes: result.reason_codes,
    quality_score: result.quality_score,
    rerun_count: result.rerun_count,
    segments_meta: result.segments_meta,
  };
}

export function missingResultOf(sessionId: string, index: number, reason: MissingReason, createdAtMs: number, traceId: string | undefined): MissingResult {
  return { type: 'missing_result', session_id: sessionId, utterance_index: index, reason, created_at_ms: createdAtMs, trace_id: traceId };
}

export function sessionErrorOf(error: JobError): SessionError {
  return { type: 'error', code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
}

export interface UiEventFields {
  sessionId: string;
  traceId: string;
  jobId: string;
  index: number;
  event: UiEventType;
  status?: 'ok' | 'error';
  elapsedMs?: number;
  errorCode?: string;
}

export function uiEventOf(f: UiEventFields): UiEvent {
  return {
    type: 'ui_event',
    trace_id: f.traceId,
    session_id: f.sessionId,
    job_id: f.jobId,
    utterance_index: f.index,
    event: f.event,
    status: f.status ?? 'ok',
    elapsed_ms: f.elapsedMs,
    error_code: f.errorCode,
  };
}
