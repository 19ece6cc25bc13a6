/**
 * What the scheduler sends a session about its utterances (PROTOCOL.md §6.7–§6.8): results in
 * utterance order, streaming partials, missing indices, UI events and errors.
 */
import { z } from 'zod';
import { UiEventStatusSchema, UiEventTypeSchema } from './common.schema.js';
import { JobErrorSchema, JobExtraSchema, SegmentsMetaSchema, ServiceTimingsSchema } from './node-jobs.schema.js';
import { EpochMs, Int, opt } from './validation.js';

/** `translation_result.network_timings`, in ms. */
export const NetworkTimingsSchema = z.object({
  web_to_scheduler_ms: opt(Int),
  scheduler_to_node_ms: opt(Int),
  node_to_scheduler_ms: opt(Int),
  scheduler_to_web_ms: opt(Int),
});
export type NetworkTimings = z.infer<typeof NetworkTimingsSchema>;

/**
 * `translation_result` (S→C, §6.7). `text_*` and `tts_audio` are `""` when absent in the job
 * result; `tts_format` is `pcm16` when the node sent none; `extra` holds the forwarded keys only
 * (`forwardedExtra`).
 */
export const TranslationResultSchema = z.object({
  type: z.literal('translation_result'),
  session_id: z.string(),
  job_id: z.string(),
  trace_id: z.string(),
  utterance_index: Int,
  text_asr: z.string(),
  text_translated: z.string(),
  tts_audio: z.string(),
  tts_format: z.string(),
  extra: opt(JobExtraSchema),
  group_id: opt(z.string()),
  part_index: opt(Int),
  service_timings: opt(ServiceTimingsSchema),
  network_timings: opt(NetworkTimingsSchema),
  scheduler_sent_at_ms: opt(EpochMs),
  asr_quality_level: opt(z.string()),
  reason_codes: opt(z.array(z.string())),
  quality_score: opt(z.number()),
  rerun_count: opt(Int),
  segments_meta: opt(SegmentsMetaSchema),
});
export type TranslationResult = z.infer<typeof TranslationResultSchema>;

/** `asr_partial` (S→C, §6.8): relayed at once, unordered; `job_id` is always `""` on this link. */
export const SessionAsrPartialSchema = z.object({
  type: z.literal('asr_partial'),
  session_id: z.string(),
  utterance_index: Int,
  job_id: z.string(),
  text: z.string(),
  is_final: z.boolean(),
  trace_id: z.string(),
});
export type SessionAsrPartial = z.infer<typeof SessionAsrPartialSchema>;

/** Known `missing_result.reason` values (open string). */
export const MISSING_RESULT_REASONS = ['silence_detected', 'gap_timeout', 'pending_overflow_evict'] as const;

/** `missing_result` (S→C, §6.8): an index resolved without a result. */
export const MissingResultSchema = z.object({
  type: z.literal('missing_result'),
  session_id: z.string(),
  utterance_index: Int,
  reason: z.string(),
  created_at_ms: EpochMs,
  trace_id: opt(z.string()),
});
export type MissingResult = z.infer<typeof MissingResultSchema>;

/** `ui_event` (S→C, §6.8). `job_id` is `""` for `ASR_PARTIAL`. */
export const UiEventSchema = z.object({
  type: z.literal('ui_event'),
  trace_id: z.string(),
  session_id: z.string(),
  job_id: z.string(),
  utterance_index: Int,
  event: UiEventTypeSchema,
  status: UiEventStatusSchema,
  elapsed_ms: opt(Int),
  error_code: opt(z.string()),
  hint: opt(z.string()),
});
export type UiEvent = z.infer<typeof UiEventSchema>;

/** `error` (S→C, §6.8); codes in §11 (open). */
export const SessionErrorSchema = z.object({
  type: z.literal('error'),
  ...JobErrorSchema.shape,
});
export type SessionError = z.infer<typeof SessionErrorSchema>;
