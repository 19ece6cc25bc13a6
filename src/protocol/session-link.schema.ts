/**
 * The session link, `/ws/session` (PROTOCOL.md §6): client ↔ scheduler messages, their unions and
 * frame parsers; results and errors for the client are in `session-results.schema.ts`. Room mode
 * (`room_*`) and WebRTC relay (`webrtc_*`) are out of scope (§6.9): they are recognized, not
 * parsed, so the scheduler can answer `UNSUPPORTED_FEATURE` or ignore them.
 */
import { z } from 'zod';
import { FeatureFlagsSchema, PipelineSchema } from './common.schema.js';
import { MissingResultSchema, SessionAsrPartialSchema, SessionErrorSchema, TranslationResultSchema, UiEventSchema } from './session-results.schema.js';
import { EpochMs, I64, Int, opt, parseFrameWith, type ParseResult } from './validation.js';

/** `session_init_ack.protocol_version` (protocol generation 1). */
export const SESSION_PROTOCOL_VERSION = '1.0';
/** Negotiated audio on the session link is always 16 kHz mono (§6.2). */
export const SESSION_SAMPLE_RATE = 16_000;
export const SESSION_CHANNEL_COUNT = 1;
/** `partial_update_interval_ms` when the client gives none (§6.1). */
export const DEFAULT_PARTIAL_UPDATE_INTERVAL_MS = 1000;

export type SessionMode = 'one_way' | 'two_way_auto';
/** `mode` is an open string: anything but `two_way_auto` is `one_way` (§6.1). */
export function sessionMode(mode: string | undefined): SessionMode {
  return mode === 'two_way_auto' ? 'two_way_auto' : 'one_way';
}

export type SessionAudioFormat = 'opus' | 'pcm16';
/** Audio negotiation (§6.2, §12 item 33): `pcm16` when asked for, otherwise `opus`. */
export function negotiateAudioFormat(audioFormat: string | undefined): SessionAudioFormat {
  return audioFormat === 'pcm16' ? 'pcm16' : 'opus';
}

const sessionLanguageShape = {
  dialect: opt(z.string()),
  features: opt(FeatureFlagsSchema),
  /** `one_way` (default) | `two_way_auto`; open: read it through `sessionMode`. */
  mode: opt(z.string()),
  lang_a: opt(z.string()),
  lang_b: opt(z.string()),
  auto_langs: opt(z.array(z.string())),
  /** Default true. */
  enable_streaming_asr: opt(z.boolean()),
  partial_update_interval_ms: opt(Int),
  trace_id: opt(z.string()),
  /** [ext] The session's default pipeline (§5.2). */
  pipeline: opt(PipelineSchema),
};

/** `session_init` (C→S, §6.1). */
export const SessionInitSchema = z.object({
  type: z.literal('session_init'),
  client_version: z.string(),
  /** `web` | `android` | `ios` | `api-gateway` (open). */
  platform: z.string(),
  /** A language, or `auto` for two-way. */
  src_lang: z.string(),
  tgt_lang: z.string(),
  /** Not supported; ignored. */
  pairing_code: opt(z.string()),
  tenant_id: opt(z.string()),
  /** [ext] `opus` (default) | `pcm16`; anything else negotiates `opus` (`negotiateAudioFormat`). */
  audio_format: opt(z.string()),
  /** [ext] `opus` (default) | `pcm16` | `wav`. */
  tts_format: opt(z.string()),
  ...sessionLanguageShape,
});
export type SessionInit = z.infer<typeof SessionInitSchema>;

/** `session_init_ack` (S→C, §6.2). */
export const SessionInitAckSchema = z.object({
  type: z.literal('session_init_ack'),
  session_id: z.string(),
  message: z.string(),
  trace_id: z.string(),
  protocol_version: z.string(),
  use_binary_frame: z.boolean(),
  negotiated_codec: z.string(),
  negotiated_audio_format: z.string(),
  negotiated_sample_rate: Int,
  negotiated_channel_count: Int,
  /** Never sent by linguamesh. */
  assigned_node_id: opt(z.string()),
  /** [ext] Sent when the client asked for a TTS format. */
  negotiated_tts_format: opt(z.string()),
});
export type SessionInitAck = z.infer<typeof SessionInitAckSchema>;

/**
 * `audio_chunk` (C→S, §6.3). `payload` is b64 in the negotiated format; `""`, absent or invalid
 * base64 is an empty chunk. `{"is_final":true,"payload":""}` ends the utterance.
 */
export const AudioChunkSchema = z.object({
  type: z.literal('audio_chunk'),
  session_id: z.string(),
  /** Client counter; ignored. */
  seq: Int,
  is_final: z.boolean(),
  payload: opt(z.string()),
  client_timestamp_ms: opt(I64),
});
export type AudioChunk = z.infer<typeof AudioChunkSchema>;

/**
 * `utterance` (C→S, §6.5): one whole utterance. Its `mode` and languages are ignored in favour of
 * the session's; `audio_format` other than `opus`, `pcm16`, `wav` is refused by the scheduler.
 */
export const UtteranceSchema = z.object({
  type: z.literal('utterance'),
  session_id: z.string(),
  src_lang: z.string(),
  tgt_lang: z.string(),
  audio_format: z.string(),
  utterance_index: Int,
  manual_cut: z.boolean(),
  audio: z.string(),
  sample_rate: Int,
  ...sessionLanguageShape,
});
export type Utterance = z.infer<typeof UtteranceSchema>;

/** `client_heartbeat` (C→S, §6.6). */
export const ClientHeartbeatSchema = z.object({
  type: z.literal('client_heartbeat'),
  session_id: z.string(),
  timestamp: I64,
});
export type ClientHeartbeat = z.infer<typeof ClientHeartbeatSchema>;

/** `server_heartbeat` (S→C, §6.6): server time. */
export const ServerHeartbeatSchema = z.object({
  type: z.literal('server_heartbeat'),
  session_id: z.string(),
  timestamp: EpochMs,
});
export type ServerHeartbeat = z.infer<typeof ServerHeartbeatSchema>;

/** `session_close` (C→S, §6.6). `reason` is R for Lingua; linguamesh accepts it absent. */
export const SessionCloseSchema = z.object({
  type: z.literal('session_close'),
  session_id: z.string(),
  reason: opt(z.string()),
});
export type SessionClose = z.infer<typeof SessionCloseSchema>;

/** `session_close_ack` (S→C, §6.6). */
export const SessionCloseAckSchema = z.object({
  type: z.literal('session_close_ack'),
  session_id: z.string(),
});
export type SessionCloseAck = z.infer<typeof SessionCloseAckSchema>;

/**
 * `tts_started` (C→S, §6.6): playback began; the pause timer is suspended. A client sends
 * `group_id` `""` when the result had none (senders MUST send it); linguamesh accepts it absent.
 */
export const TtsStartedSchema = z.object({
  type: z.literal('tts_started'),
  session_id: z.string(),
  trace_id: z.string(),
  group_id: opt(z.string()),
  ts_start_ms: Int,
});
export type TtsStarted = z.infer<typeof TtsStartedSchema>;

/** `tts_play_ended` (C→S, §6.6): playback ended; the pause timer restarts. */
export const TtsPlayEndedSchema = z.object({
  type: z.literal('tts_play_ended'),
  session_id: z.string(),
  trace_id: z.string(),
  group_id: opt(z.string()),
  ts_end_ms: Int,
});
export type TtsPlayEnded = z.infer<typeof TtsPlayEndedSchema>;

/** Every message a client sends to the scheduler. */
export const ClientToSchedulerMessageSchema = z.discriminatedUnion('type', [
  SessionInitSchema,
  AudioChunkSchema,
  UtteranceSchema,
  ClientHeartbeatSchema,
  SessionCloseSchema,
  TtsStartedSchema,
  TtsPlayEndedSchema,
]);
export type ClientToSchedulerMessage = z.infer<typeof ClientToSchedulerMessageSchema>;

/** Every message the scheduler sends to a client. */
export const SchedulerToClientMessageSchema = z.discriminatedUnion('type', [
  SessionInitAckSchema,
  ServerHeartbeatSchema,
  SessionCloseAckSchema,
  TranslationResultSchema,
  SessionAsrPartialSchema,
  MissingResultSchema,
  UiEventSchema,
  SessionErrorSchema,
]);
export type SchedulerToClientMessage = z.infer<typeof SchedulerToClientMessageSchema>;

export const CLIENT_TO_SCHEDULER_TYPES: ReadonlySet<ClientToSchedulerMessage['type']> = new Set(ClientToSchedulerMessageSchema.options.map((o) => o.shape.type.value));
export const SCHEDULER_TO_CLIENT_TYPES: ReadonlySet<SchedulerToClientMessage['type']> = new Set(SchedulerToClientMessageSchema.options.map((o) => o.shape.type.value));

/**
 * What the scheduler does with a client frame of a given `type` (§6.9): `supported` → parse it;
 * `unsupported` (`room_*`) → `error UNSUPPORTED_FEATURE`; `ignored` (`webrtc_*`) → nothing;
 * `unknown` → `error INVALID_MESSAGE`.
 */
export type ClientMessageDisposition = 'supported' | 'unsupported' | 'ignored' | 'unknown';

export function classifyClientMessageType(type: string): ClientMessageDisposition {
  if ((CLIENT_TO_SCHEDULER_TYPES as ReadonlySet<string>).has(type)) return 'supported';
  if (type.startsWith('room_')) return 'unsupported';
  if (type.startsWith('webrtc_')) return 'ignored';
  return 'unknown';
}

/**
 * Parses one text frame received by the scheduler on `/ws/session`. A `room_*` or `webrtc_*` frame
 * fails with `details.disposition` `unsupported` / `ignored` (see `classifyClientMessageType`);
 * every other failure is answered `error INVALID_MESSAGE` ("Invalid message format: " + reason).
 */
export function parseClientToScheduler(raw: string | Buffer, maxFrameBytes?: number): ParseResult<ClientToSchedulerMessage> {
  return parseFrameWith(ClientToSchedulerMessageSchema, raw, {
    knownTypes: CLIENT_TO_SCHEDULER_TYPES,
    what: 'session message',
    maxFrameBytes,
    describeUnknownType: (type) => {
      const disposition = classifyClientMessageType(type);
      return disposition === 'unknown' ? undefined : { message: `message type ${disposition === 'unsupported' ? 'room_*' : 'webrtc_*'} is not supported (PROTOCOL.md §6.9)`, details: { disposition } };
    },
  });
}

/** Parses one text frame received by a session client. */
export function parseSchedulerToClient(raw: string | Buffer, maxFrameBytes?: number): ParseResult<SchedulerToClientMessage> {
  return parseFrameWith(SchedulerToClientMessageSchema, raw, { knownTypes: SCHEDULER_TO_CLIENT_TYPES, what: 'scheduler message', maxFrameBytes });
}
