/**
 * The messages a node sends about a job (PROTOCOL.md §2.8, §2.9) and the errors of a failed one
 * (§8.3, §8.4), built from plain values. Pure: shared by the job machine and the node's acceptance
 * checks, which answer some jobs without running them.
 */
import type { AudioFormat } from '../kernel/ports/audio.port.js';
import type { JobAck, JobAssign, JobError, JobExtra, JobResult, JobStarted } from '../protocol/node-jobs.schema.js';
import type { StageName } from './job-plan.js';

/** Error codes of `job_result.error` a node sends (§8.3, §11). */
export const JOB_ERROR_CODES = {
  processing: 'PROCESSING_ERROR',
  modelNotAvailable: 'MODEL_NOT_AVAILABLE',
  overloaded: 'NODE_OVERLOADED',
} as const;

/** `error.details` of MODEL_NOT_AVAILABLE (§8.3). `service_id` is the type when none of that type is installed. */
export interface UnavailableDetails {
  service_id: string;
  /** `not_installed` | `not_running` | `error` | `failed` (every call of a stage failed, §8.4). */
  reason: string;
  service_version?: string;
  /** With reason `failed`: the stage whose calls all failed. */
  stage?: StageName;
}

/** Time spent in each stage, in ms (`extra.service_timings`, §8.1). */
export interface StageTimingsMs {
  asr_ms: number;
  nmt_ms: number;
  tts_ms: number;
}

export const NO_STAGE_TIME: StageTimingsMs = Object.freeze({ asr_ms: 0, nmt_ms: 0, tts_ms: 0 });

export function jobAckOf(job: JobAssign, nodeId: string): JobAck {
  return { type: 'job_ack', job_id: job.job_id, attempt_id: job.attempt_id, node_id: nodeId, session_id: job.session_id, trace_id: job.trace_id };
}

export function jobStartedOf(job: JobAssign, nodeId: string): JobStarted {
  return { type: 'job_started', job_id: job.job_id, attempt_id: job.attempt_id, node_id: nodeId, session_id: job.session_id, trace_id: job.trace_id };
}

export interface JobResultFields {
  success: boolean;
  textAsr?: string;
  textTranslated?: string;
  /** b64 of the encoded speech; `""` when synthesis was skipped or failed (§7.5). */
  ttsAudio?: string;
  /** Always sent (§2.9: an absent value is read as pcm16). */
  ttsFormat: AudioFormat;
  error?: JobError;
  /** `extra` besides `service_timings` (`reason`, `language_probability`, …). */
  extra?: Omit<JobExtra, 'service_timings'>;
  timings: StageTimingsMs;
  /** When the node received the `job_assign`, epoch ms. */
  receivedAtMs: number;
  /** Now, epoch ms. */
  completedAtMs: number;
}

/** One `job_result` (§2.9): `service_timings`, `processing_time_ms` and `node_completed_at_ms` always filled. */
export function jobResultOf(job: JobAssign, nodeId: string, fields: JobResultFields): JobResult {
  const totalMs = Math.max(0, Math.round(fields.completedAtMs - fields.receivedAtMs));
  const timing = (ms: number) => Math.max(0, Math.round(ms));
  return {
    type: 'job_result',
    job_id: job.job_id,
    node_id: nodeId,
    session_id: job.session_id,
    trace_id: job.trace_id,
    attempt_id: job.attempt_id,
    utterance_index: job.utterance_index,
    success: fields.success,
    ...(fields.textAsr !== undefined ? { text_asr: fields.textAsr } : {}),
    ...(fields.textTranslated !== undefined ? { text_translated: fields.textTranslated } : {}),
    tts_audio: fields.ttsAudio ?? '',
    tts_format: fields.ttsFormat,
    extra: {
      ...fields.extra,
      service_timings: { asr_ms: timing(fields.timings.asr_ms), nmt_ms: timing(fields.timings.nmt_ms), tts_ms: timing(fields.timings.tts_ms), total_ms: totalMs },
    },
    processing_time_ms: totalMs,
    ...(fields.error ? { error: fields.error } : {}),
    ...(job.group_id != null ? { group_id: job.group_id } : {}),
    ...(job.part_index != null ? { part_index: job.part_index } : {}),
    node_completed_at_ms: Math.round(fields.completedAtMs),
  };
}

export function processingError(message: string, details?: Record<string, unknown>): JobError {
  return { code: JOB_ERROR_CODES.processing, message, ...(details ? { details } : {}) };
}

/** §8.3: message `"Service <id>@<version> is not available: <reason>"` (`@<version>` only when one is known). */
export function modelNotAvailable(details: UnavailableDetails): JobError {
  const name = details.service_version !== undefined ? `${details.service_id}@${details.service_version}` : details.service_id;
  return { code: JOB_ERROR_CODES.modelNotAvailable, message: `Service ${name} is not available: ${details.reason}`, details: { ...details } };
}

/** §8.2 check 2 [compat message prefix]. */
export function duplicateJobIdError(job: JobAssign): JobError {
  return processingError(`DUPLICATE_JOB_ID: job ${job.job_id} was already received by this node`, { job_id: job.job_id });
}

/** §8.2 check 3 [fix: the key includes tgt_lang]. */
export function duplicateUtteranceError(job: JobAssign, acceptedJobId: string): JobError {
  return processingError(
    `DUPLICATE_UTTERANCE_INDEX: session ${job.session_id} utterance ${job.utterance_index} to ${job.tgt_lang} was already accepted as job ${acceptedJobId}`,
    { session_id: job.session_id, utterance_index: job.utterance_index, tgt_lang: job.tgt_lang, accepted_job_id: acceptedJobId },
  );
}

/** §8.2 check 4, §8.3: `{running_jobs, max_concurrent_jobs}`. */
export function overloadedError(runningJobs: number, maxConcurrentJobs: number, reason?: string): JobError {
  return {
    code: JOB_ERROR_CODES.overloaded,
    message: reason ? `Node cannot take jobs: ${reason}` : `Node at capacity: ${runningJobs} of ${maxConcurrentJobs} jobs running`,
    details: { running_jobs: runningJobs, max_concurrent_jobs: maxConcurrentJobs, ...(reason ? { reason } : {}) },
  };
}

/**
 * §8.4: every call of a stage failed. ASR → PROCESSING_ERROR [compat]; NMT and TTS →
 * MODEL_NOT_AVAILABLE `{service_id: <type>, reason: "failed", stage}`, so the scheduler reassigns.
 */
export function stageFailedError(stage: StageName, last?: { serviceId: string; code: string }): JobError {
  const lastCall = last ? { last_service_id: last.serviceId, last_error_code: last.code } : {};
  if (stage === 'asr') return processingError('ASR failed on every service that was tried', { stage, reason: 'failed', ...lastCall });
  const error = modelNotAvailable({ service_id: stage, reason: 'failed', stage });
  return { ...error, details: { ...error.details, ...lastCall } };
}
