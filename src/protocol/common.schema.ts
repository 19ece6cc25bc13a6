/**
 * Shared enums and value types of PROTOCOL.md §1.7, used by both WebSocket links. Closed enums
 * reject unknown values at the top level of a message; inside the lenient lists of §1.5 an unknown
 * value drops only its item (see `lenientList`).
 */
import { z } from 'zod';
import { opt } from './validation.js';

export const SERVICE_TYPES = ['asr', 'nmt', 'tts', 'tone', 'semantic', 'phonetic', 'punctuation'] as const;
export const ServiceTypeSchema = z.enum(SERVICE_TYPES);
export type ServiceType = z.infer<typeof ServiceTypeSchema>;

/** Whether a `service.json` `type` is a wire ServiceType (others, e.g. `lexicon`, are never reported, §3.3). */
export function isServiceType(type: string): type is ServiceType {
  return (SERVICE_TYPES as readonly string[]).includes(type);
}

export const DeviceTypeSchema = z.enum(['gpu', 'cpu']);
export type DeviceType = z.infer<typeof DeviceTypeSchema>;

export const ServiceStatusSchema = z.enum(['running', 'stopped', 'error']);
export type ServiceStatus = z.infer<typeof ServiceStatusSchema>;

export const ModelKindSchema = z.enum(['asr', 'nmt', 'tts', 'vad', 'emotion', 'other']);
export type ModelKind = z.infer<typeof ModelKindSchema>;

export const NODE_STATUSES = ['registering', 'ready', 'degraded', 'draining', 'offline'] as const;
export const NodeStatusSchema = z.enum(NODE_STATUSES);
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

export const UiEventTypeSchema = z.enum(['INPUT_STARTED', 'INPUT_ENDED', 'ASR_PARTIAL', 'ASR_FINAL', 'DISPATCHED', 'NODE_ACCEPTED', 'NMT_DONE', 'TTS_PLAY_STARTED', 'TTS_PLAY_ENDED', 'ERROR']);
export type UiEventType = z.infer<typeof UiEventTypeSchema>;

export const UiEventStatusSchema = z.enum(['ok', 'error']);
export type UiEventStatus = z.infer<typeof UiEventStatusSchema>;

/** PROTOCOL.md §1.7 FeatureFlags: six optional booleans; `{}` is valid. */
export const FeatureFlagsSchema = z.object({
  emotion_detection: opt(z.boolean()),
  voice_style_detection: opt(z.boolean()),
  speech_rate_detection: opt(z.boolean()),
  speech_rate_control: opt(z.boolean()),
  speaker_identification: opt(z.boolean()),
  persona_adaptation: opt(z.boolean()),
});
export type FeatureFlags = z.infer<typeof FeatureFlagsSchema>;

/**
 * PROTOCOL.md §1.7 Pipeline. The optional stages default to false; the schema leaves them absent
 * (so a message round-trips unchanged) and consumers read `=== true`. `use_phonetic` and
 * `use_lexicon` are accepted by a node only.
 */
export const PipelineSchema = z.object({
  use_asr: z.boolean(),
  use_nmt: z.boolean(),
  use_tts: z.boolean(),
  use_semantic: opt(z.boolean()),
  use_tone: opt(z.boolean()),
  use_phonetic: opt(z.boolean()),
  use_lexicon: opt(z.boolean()),
});
export type Pipeline = z.infer<typeof PipelineSchema>;

/** The pipeline of a job when neither the utterance nor the session gives one (PROTOCOL.md §5.2). */
export const DEFAULT_PIPELINE: Readonly<Pipeline> = Object.freeze({ use_asr: true, use_nmt: true, use_tts: true, use_semantic: false, use_tone: false });
