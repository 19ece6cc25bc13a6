/**
 * HTTP bodies between a node and its local speech services (PROTOCOL.md §9.1–§9.6). Requests are
 * built by the node; responses are parsed at the adapter. Audio in `audio` fields is b64.
 */
import { z } from 'zod';
import { ServiceLanguagesObjectSchema } from './service-json.schema.js';
import { Int, OpenObject, opt } from './validation.js';

/** Error body of a non-2xx answer (§9.1): Lingua services send `detail` or `error`; linguamesh adds `code`. */
export const ServiceErrorBodySchema = z.object({
  detail: opt(z.string()),
  error: opt(z.string()),
  code: opt(z.string()),
});
export type ServiceErrorBody = z.infer<typeof ServiceErrorBodySchema>;

/**
 * A JSON health answer (§9.1). A service whose languages are known only at run time may return
 * them in the declared shape of §9.7; the node then prefers them. Other members (`device`,
 * `model_loaded`, `warmed`, …) are kept.
 */
export const ServiceHealthResponseSchema = z.looseObject({
  status: opt(z.string()),
  languages: opt(ServiceLanguagesObjectSchema),
});
export type ServiceHealthResponse = z.infer<typeof ServiceHealthResponseSchema>;

const READY_STATUSES = new Set(['ok', 'healthy', 'ready']);

/**
 * Whether a 2xx health answer means ready (§9.1): a JSON object whose `status` is `ok`, `healthy`
 * or `ready` (any case) or which has no `status`, or the plain text `OK`. The caller has already
 * checked the HTTP status; any other body is not ready.
 */
export function isReadyHealthBody(body: string): boolean {
  if (body.trim() === 'OK') return true;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const status = (value as { status?: unknown }).status;
  if (status === undefined || status === null) return true;
  return typeof status === 'string' && READY_STATUSES.has(status.toLowerCase());
}

/** ASR `POST /utterance` request (§9.2). The node always sends pcm16 at 16 kHz. */
export const AsrUtteranceRequestSchema = z.object({
  job_id: z.string(),
  /** A language or `auto`. */
  src_lang: z.string(),
  audio: z.string(),
  audio_format: z.string(),
  sample_rate: Int,
  tgt_lang: opt(z.string()),
  /** Forces a language. */
  language: opt(z.string()),
  /** `transcribe`. */
  task: opt(z.string()),
  context_text: opt(z.string()),
  trace_id: opt(z.string()),
  beam_size: opt(Int),
  padding_ms: opt(Int),
  temperature: opt(z.number()),
  condition_on_previous_text: opt(z.boolean()),
  use_context_buffer: opt(z.boolean()),
  use_text_context: opt(z.boolean()),
  skip_text_dedup: opt(z.boolean()),
  enable_streaming_asr: opt(z.boolean()),
});
export type AsrUtteranceRequest = z.infer<typeof AsrUtteranceRequestSchema>;

export const AsrWordSchema = z.object({ word: z.string(), start: z.number(), end: z.number(), probability: z.number() });
export const AsrSegmentSchema = z.object({
  text: z.string(),
  start: z.number(),
  end: z.number(),
  no_speech_prob: opt(z.number()),
  avg_logprob: opt(z.number()),
  compression_ratio: opt(z.number()),
  words: opt(z.array(AsrWordSchema)),
});
export type AsrSegment = z.infer<typeof AsrSegmentSchema>;

/** ASR `POST /utterance` response (§9.2). `duration` in seconds. */
export const AsrUtteranceResponseSchema = z.object({
  text: z.string(),
  language: opt(z.string()),
  language_probability: opt(z.number()),
  language_probabilities: opt(z.record(z.string(), z.number())),
  duration: opt(z.number()),
  segments: opt(z.array(AsrSegmentSchema)),
  vad_segments: opt(z.array(z.array(Int))),
  nbest: opt(z.array(z.object({ text: z.string(), score: z.number() }))),
  diagnostics: opt(OpenObject),
});
export type AsrUtteranceResponse = z.infer<typeof AsrUtteranceResponseSchema>;

/** NMT `POST /v1/translate` request (§9.3). */
export const TranslateRequestSchema = z.object({
  src_lang: z.string(),
  tgt_lang: z.string(),
  text: z.string(),
  context_text: opt(z.string()),
  num_candidates: opt(Int),
});
export type TranslateRequest = z.infer<typeof TranslateRequestSchema>;

/** NMT `POST /v1/translate` response (§9.3). A model not loaded answers 200 `{"ok":false,…}`. */
export const TranslateResponseSchema = z.object({
  ok: z.boolean(),
  text: opt(z.string()),
  model: opt(z.string()),
  provider: opt(z.string()),
  candidates: opt(z.array(z.string())),
  extraction_mode: opt(z.string()),
  extraction_confidence: opt(z.string()),
  extra: opt(OpenObject),
  error: opt(z.string()),
});
export type TranslateResponse = z.infer<typeof TranslateResponseSchema>;

/** Success requires `ok: true` and a string `text`; anything else is a failed call (§8.4, §9.3). */
export function isTranslateSuccess(response: TranslateResponse): response is TranslateResponse & { ok: true; text: string } {
  return response.ok && typeof response.text === 'string';
}

/** Standard TTS `POST /tts` request (§9.4); the answer is a WAV body. Unknown voice → 404. */
export const TtsRequestSchema = z.object({
  text: z.string(),
  voice: z.string(),
  language: opt(z.string()),
});
export type TtsRequest = z.infer<typeof TtsRequestSchema>;

/** Built-in default voices when `languages.voices` names none (§9.4); else the language code itself. */
export const DEFAULT_TTS_VOICES: Readonly<Record<string, string>> = Object.freeze({ en: 'en_US-lessac-medium', zh: 'zh_CN-huayan-medium' });

/** `GET /voices` response (§9.4, optional endpoint). */
export const VoicesResponseSchema = z.object({
  voices: z.array(z.object({ name: z.string(), path: z.string() })),
});
export type VoicesResponse = z.infer<typeof VoicesResponseSchema>;

/** Voice-cloning TTS `POST /synthesize` request (§9.4). A node always sends `language`. */
export const SynthesizeRequestSchema = z.object({
  text: z.string(),
  language: opt(z.string()),
  speaker_id: opt(z.string()),
  reference_audio: opt(z.array(z.number())),
  reference_sample_rate: opt(Int),
  speaker: opt(z.string()),
});
export type SynthesizeRequest = z.infer<typeof SynthesizeRequestSchema>;

/** `POST /synthesize` response: float samples in -1..1 at `sample_rate`. */
export const SynthesizeResponseSchema = z.object({
  audio: z.array(z.number()),
  sample_rate: Int,
  text: opt(z.string()),
  used_reference: opt(z.boolean()),
  speaker_applied: opt(z.boolean()),
});
export type SynthesizeResponse = z.infer<typeof SynthesizeResponseSchema>;

/** `POST /register_speaker` request (§9.4): caches a voice. */
export const RegisterSpeakerRequestSchema = z.object({
  speaker_id: z.string(),
  reference_audio: z.array(z.number()),
  reference_sample_rate: opt(Int),
  voice_embedding: opt(z.array(z.number())),
});
export type RegisterSpeakerRequest = z.infer<typeof RegisterSpeakerRequestSchema>;

/** Speaker embedding `POST /extract` request (§9.5): float samples, 16 kHz mono. */
export const ExtractRequestSchema = z.object({ audio: z.array(z.number()) });
export type ExtractRequest = z.infer<typeof ExtractRequestSchema>;

/** `POST /extract` response (§9.5). Under 16 000 samples: `too_short`, `use_default`, `embedding: null`. */
export const ExtractResponseSchema = z.object({
  embedding: z.array(z.number()).nullable(),
  dimension: Int,
  input_samples: Int,
  sample_rate: Int,
  too_short: z.boolean(),
  use_default: z.boolean(),
  estimated_gender: opt(z.string()),
  message: opt(z.string()),
});
export type ExtractResponse = z.infer<typeof ExtractResponseSchema>;

/** Semantic repair `POST /repair` (and `/zh/repair`, `/en/repair`, `/en/normalize`) request (§9.6). */
export const RepairRequestSchema = z.object({
  job_id: z.string(),
  session_id: z.string(),
  /** Default 0. */
  utterance_index: opt(Int),
  /** Default `zh`. */
  lang: opt(z.string()),
  text_in: z.string(),
  quality_score: opt(z.number()),
  micro_context: opt(z.string()),
  meta: opt(OpenObject),
});
export type RepairRequest = z.infer<typeof RepairRequestSchema>;

/** Semantic repair response (§9.6). On failure the node keeps the unrepaired text. */
export const RepairResponseSchema = z.object({
  decision: z.enum(['PASS', 'REPAIR', 'REJECT']),
  text_out: z.string(),
  confidence: z.number(),
  request_id: opt(z.string()),
  diff: z.unknown().optional(),
  reason_codes: opt(z.array(z.string())),
  process_time_ms: opt(Int),
  processor_name: opt(z.string()),
});
export type RepairResponse = z.infer<typeof RepairResponseSchema>;

/** Phonetic correction `POST /correct` (§9.6). */
export const CorrectRequestSchema = z.object({ text_in: z.string(), lang: opt(z.string()) });
export type CorrectRequest = z.infer<typeof CorrectRequestSchema>;
export const CorrectResponseSchema = z.object({ text_out: z.string(), process_time_ms: opt(Int) });
export type CorrectResponse = z.infer<typeof CorrectResponseSchema>;

/** Punctuation `POST /punc` (§9.6); `lang` default `zh`. */
export const PuncRequestSchema = z.object({ text: z.string(), lang: opt(z.string()) });
export type PuncRequest = z.infer<typeof PuncRequestSchema>;
export const PuncResponseSchema = z.object({ text: z.string(), process_time_ms: opt(Int) });
export type PuncResponse = z.infer<typeof PuncResponseSchema>;
