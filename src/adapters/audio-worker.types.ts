/**
 * What the audio pool adapter and its worker entry (`native/workers/audio.worker.ts`) say to each
 * other. Types only: the worker imports this file with `import type` and loads nothing of `src/`
 * (STYLE.md §1, §9). Replies come from our own code, so they are not re-parsed (STYLE.md §6).
 */
import type { AudioWarning, SpeechSegment } from '../kernel/ports/audio.port.js';

/** Fixed for the life of a worker: handed over as Piscina `workerData`. */
export interface AudioWorkerConfig {
  /** Path of the Silero VAD model (`silero_vad.onnx`). */
  vadModelPath: string;
  /** Speech probability above which a 32 ms window counts as speech (0–1). */
  vadThreshold: number;
  /** Silence that ends a speech segment, in ms. */
  vadMinSilenceMs: number;
  /** Shortest speech segment kept, in ms. */
  vadMinSpeechMs: number;
  /** Audio kept before the first speech segment, in ms. */
  speechPadBeforeMs: number;
  /** Audio kept after the last speech segment, in ms. */
  speechPadAfterMs: number;
  /** Opus encoder bitrate, in bit/s. */
  opusBitrateBps: number;
  /** Opus encoder complexity, 0–10. */
  opusComplexity: number;
}

export type AudioTask =
  | { op: 'ping' }
  | { op: 'decode'; bytes: Uint8Array; format: string; sampleRate: number }
  | { op: 'detectSpeech'; pcm: Int16Array; paddingMs: number }
  | { op: 'prepare'; bytes: Uint8Array; format: string; sampleRate: number; paddingMs: number }
  | {
      op: 'encode';
      input: { kind: 'wav'; bytes: Uint8Array } | { kind: 'pcm'; samples: Float32Array | Int16Array; sampleRate: number };
      format: string;
    };

export type AudioTaskOp = AudioTask['op'];

export interface DecodeReply {
  pcm: Int16Array;
  warnings: AudioWarning[];
}

export interface SpeechReply {
  pcm: Int16Array;
  speech: boolean;
  segments: SpeechSegment[];
  /** Samples before trimming. */
  inputSamples: number;
}

export interface EncodeReply {
  bytes: Uint8Array;
  durationMs: number;
}

export interface AudioReplies {
  ping: { threadId: number };
  decode: DecodeReply;
  detectSpeech: SpeechReply;
  prepare: SpeechReply & { warnings: AudioWarning[] };
  encode: EncodeReply;
}

/** A refusal the worker decided on (bad input); anything thrown instead is a worker failure. */
export interface AudioTaskFailure {
  ok: false;
  code: 'AUDIO_DECODE_FAILED' | 'AUDIO_ENCODE_FAILED';
  message: string;
  /** `reason` is a stable snake_case word (`invalid_opus_packet`, `no_data_chunk`, …). */
  details: { reason: string } & Record<string, string | number>;
}

export type AudioTaskResult<TOp extends AudioTaskOp = AudioTaskOp> = { ok: true; value: AudioReplies[TOp] } | AudioTaskFailure;
