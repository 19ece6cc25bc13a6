/**
 * Job messages of the node link (PROTOCOL.md §2.7–§2.11) and the parts of a job result that the
 * scheduler copies into `translation_result` (§6.7, §8.1).
 */
import { z } from 'zod';
import { FeatureFlagsSchema, PipelineSchema } from './common.schema.js';
import { EpochMs, Int, OpenObject, opt } from './validation.js';

/** `service_timings`, in ms (§2.9, §6.7). Every member is optional: `{total_ms}` alone is valid. */
export const ServiceTimingsSchema = z.object({
  asr_ms: opt(Int),
  nmt_ms: opt(Int),
  tts_ms: opt(Int),
  total_ms: opt(Int),
});
export type ServiceTimings = z.infer<typeof ServiceTimingsSchema>;

/** `segments_meta` of §2.9; `max_gap` and `avg_duration` in seconds. */
export const SegmentsMetaSchema = z.object({
  count: Int,
  max_gap: z.number(),
  avg_duration: z.number(),
});
export type SegmentsMeta = z.infer<typeof SegmentsMetaSchema>;

/** Known `extra.reason` values (§8.1): an empty transcript, or audio merged into another job. */
export const EMPTY_RESULT_REASONS = ['ASR_EMPTY', 'NO_TEXT_ASSIGNED'] as const;

/**
 * `job_result.extra` (PROTOCOL.md §8.1): an open object. The known keys are typed; unknown keys are
 * kept on input and dropped by `forwardedExtra` before `translation_result`.
 */
export const JobExtraSchema = z.looseObject({
  emotion: opt(z.string()),
  speech_rate: opt(z.number()),
  voice_style: opt(z.string()),
  service_timings: opt(ServiceTimingsSchema),
  language_probability: opt(z.number()),
  language_probabilities: opt(z.record(z.string(), z.number())),
  reason: opt(z.string()),
});
export type JobExtra = z.infer<typeof JobExtraSchema>;

// The scheduler forwards exactly the known keys.
const FORWARDED_EXTRA_KEYS = JobExtraSchema.keyof().options;

/** The keys of `extra` the scheduler forwards to the session (§6.7, §8.1); undefined when none is left. */
export function forwardedExtra(extra: JobExtra | undefined): JobExtra | undefined {
  if (extra === undefined) return undefined;
  const out: JobExtra = {};
  const copy = <K extends (typeof FORWARDED_EXTRA_KEYS)[number]>(key: K): void => {
    if (extra[key] !== undefined) out[key] = extra[key];
  };
  FORWARDED_EXTRA_KEYS.forEach(copy);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `{code, message, details}`: the error of a failed job result (§2.9, §8.3), and the body of `node_error` and `error` (§2.4, §6.8). */
export const JobErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: opt(OpenObject),
});
export type JobError = z.infer<typeof JobErrorSchema>;

/** `job_assign` (S→N, §2.7). The `is_*` flags are sent only when true (§1.4). */
export const JobAssignSchema = z.object({
  type: z.literal('job_assign'),
  job_id: z.string(),
  session_id: z.string(),
  trace_id: z.string(),
  attempt_id: Int.min(1),
  utterance_index: Int,
  src_lang: z.string(),
  tgt_lang: z.string(),
  dialect: opt(z.string()),
  features: opt(FeatureFlagsSchema),
  pipeline: PipelineSchema,
  /** b64: undecodable audio fails the job with PROCESSING_ERROR (§7.4), not the message. */
  audio: z.string(),
  audio_format: z.string(),
  sample_rate: Int,
  mode: opt(z.string()),
  lang_a: opt(z.string()),
  lang_b: opt(z.string()),
  auto_langs: opt(z.array(z.string())),
  enable_streaming_asr: opt(z.boolean()),
  partial_update_interval_ms: opt(Int),
  group_id: opt(z.string()),
  part_index: opt(Int),
  context_text: opt(z.string()),
  padding_ms: opt(Int),
  is_manual_cut: opt(z.boolean()),
  is_timeout_triggered: opt(z.boolean()),
  is_max_duration_triggered: opt(z.boolean()),
  turn_id: opt(z.string()),
  /** [ext] `opus` | `pcm16` | `wav`; absent = `opus` (§7.5). */
  tts_format: opt(z.string()),
});
export type JobAssign = z.infer<typeof JobAssignSchema>;

const jobProgressShape = {
  job_id: z.string(),
  attempt_id: Int,
  node_id: z.string(),
  session_id: z.string(),
  trace_id: z.string(),
};

/** `job_ack` (N→S, §2.8): the job passed the node's acceptance checks (§8.2). */
export const JobAckSchema = z.object({ type: z.literal('job_ack'), ...jobProgressShape });
export type JobAck = z.infer<typeof JobAckSchema>;

/** `job_started` (N→S, §2.8): processing began. */
export const JobStartedSchema = z.object({ type: z.literal('job_started'), ...jobProgressShape });
export type JobStarted = z.infer<typeof JobStartedSchema>;

/**
 * `job_result` (N→S, §2.9). `error` is REQUIRED when `success` is false, so a failure without it is
 * an invalid message. `tts_format` absent is forwarded as `pcm16` (§6.7).
 */
export const JobResultSchema = z
  .object({
    type: z.literal('job_result'),
    job_id: z.string(),
    node_id: z.string(),
    session_id: z.string(),
    trace_id: z.string(),
    attempt_id: Int,
    utterance_index: Int,
    success: z.boolean(),
    text_asr: opt(z.string()),
    text_translated: opt(z.string()),
    tts_audio: opt(z.string()),
    tts_format: opt(z.string()),
    extra: opt(JobExtraSchema),
    processing_time_ms: opt(Int),
    error: opt(JobErrorSchema),
    group_id: opt(z.string()),
    part_index: opt(Int),
    node_completed_at_ms: opt(EpochMs),
    /** `good` | `suspect` | `bad` (open). */
    asr_quality_level: opt(z.string()),
    reason_codes: opt(z.array(z.string())),
    quality_score: opt(z.number()),
    rerun_count: opt(Int),
    segments_meta: opt(SegmentsMetaSchema),
  })
  .superRefine((msg, ctx) => {
    if (!msg.success && msg.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'required when success is false' });
    }
  });
export type JobResult = z.infer<typeof JobResultSchema>;

/** `asr_partial` (N→S, §2.10): a streaming transcript of a job in flight. */
export const NodeAsrPartialSchema = z.object({
  type: z.literal('asr_partial'),
  job_id: z.string(),
  node_id: z.string(),
  session_id: z.string(),
  utterance_index: Int,
  text: z.string(),
  is_final: z.boolean(),
  trace_id: z.string(),
});
export type NodeAsrPartial = z.infer<typeof NodeAsrPartialSchema>;

/** Known `job_cancel.reason` values (open string): `job_timeout`; [ext] `session_closed`. */
export const JOB_CANCEL_REASONS = ['job_timeout', 'session_closed'] as const;

/** `job_cancel` (S→N, §2.11). No reply; no `job_result` for a cancelled attempt. */
export const JobCancelSchema = z.object({
  type: z.literal('job_cancel'),
  job_id: z.string(),
  trace_id: opt(z.string()),
  reason: opt(z.string()),
  attempt_id: opt(Int),
});
export type JobCancel = z.infer<typeof JobCancelSchema>;
