/**
 * The node's audio work (ARCHITECTURE.md `audio`): decoding a job's utterance, trimming it to the
 * speech with a VAD, and encoding synthesized speech to the session's format (PROTOCOL.md §7). The
 * adapter behind it runs the work on a worker-thread pool; actors see only this interface.
 *
 * PCM crossing this port is always signed 16-bit mono at 16 000 Hz in an `Int16Array`: it is what
 * an ASR service receives (PROTOCOL.md §9.2, `pcm16` at 16 kHz), so no conversion is needed at that
 * boundary, and it is half the bytes of Float32.
 *
 * Buffers passed in are MOVED to a worker thread: after a call, the caller must not touch `bytes`,
 * `pcm` or `samples` again (they may be detached). Every method takes `signal` last and rejects only
 * with KernelErrors, whose codes are listed in `AUDIO_ERROR_CODES`.
 */

/** The encodings of PROTOCOL.md §7: Opus Plan A (§7.1), raw pcm16 (§7.2), RIFF/WAVE (§7.3). */
export const AUDIO_FORMATS = ['opus', 'pcm16', 'wav'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** The one rate of PCM on this port, and of `opus` and `pcm16` output (PROTOCOL.md §7.5). */
export const PCM_SAMPLE_RATE = 16_000;

/** The audio format named by a wire string (`job_assign.audio_format`, `tts_format`), if it is one. */
export function parseAudioFormat(value: string | undefined): AudioFormat | undefined {
  return (AUDIO_FORMATS as readonly string[]).includes(value ?? '') ? (value as AudioFormat) : undefined;
}

/** Stable codes of the KernelErrors this port rejects with (STYLE.md §7). */
export const AUDIO_ERROR_CODES = {
  /** The input could not be decoded (corrupt Opus packet, malformed WAV, unsupported encoding or rate). Not retryable. */
  decodeFailed: 'AUDIO_DECODE_FAILED',
  /** Synthesized audio could not be read or encoded (malformed TTS WAV, bad sample rate). Not retryable. */
  encodeFailed: 'AUDIO_ENCODE_FAILED',
  /** Every worker is busy and the queue is full. Retryable. */
  overloaded: 'AUDIO_OVERLOADED',
  /** The worker running the task died (it is replaced). Retryable. */
  workerFailed: 'AUDIO_WORKER_FAILED',
  /** The port is closing or closed. Not retryable. */
  closed: 'AUDIO_POOL_CLOSED',
  /** The caller's signal aborted the task. Not retryable. */
  aborted: 'ABORTED',
} as const;

/** Something a decoder stepped over without failing (PROTOCOL.md §7.1: skipped or truncated records). */
export interface AudioWarning {
  kind: 'oversized_packet' | 'truncated_record' | 'truncated_data';
  /** Byte offset in the input. */
  offset: number;
  /** Declared length of the skipped record or chunk, in bytes. */
  length: number;
}

/** Audio as it arrives in a job (`job_assign.audio` after base64, `audio_format`, `sample_rate`). */
export interface EncodedAudio {
  bytes: Uint8Array;
  format: AudioFormat;
  /**
   * Declared rate of `pcm16` input, in Hz (PROTOCOL.md §7.2). Opus Plan A is 16 kHz by definition
   * and a WAV states its own rate, so both ignore it.
   */
  sampleRate: number;
}

export interface DecodedAudio {
  /** 16 kHz mono pcm16. */
  pcm: Int16Array;
  sampleRate: typeof PCM_SAMPLE_RATE;
  /** Length of `pcm`, in ms. */
  durationMs: number;
  warnings: AudioWarning[];
}

/** One stretch of speech found by the VAD, relative to the start of the audio it was given. */
export interface SpeechSegment {
  startMs: number;
  endMs: number;
}

export interface DetectSpeechRequest {
  /** 16 kHz mono pcm16 (moved). */
  pcm: Int16Array;
  /** Silence appended after the trimmed speech, in ms (`job_assign.padding_ms`, PROTOCOL.md §2.7). Default 0. */
  paddingMs?: number;
}

export interface SpeechAudio {
  /**
   * The audio from the first speech segment (less the configured lead-in padding) to the last one
   * (plus the configured tail padding), followed by `paddingMs` of silence. Empty when `speech` is false.
   */
  pcm: Int16Array;
  sampleRate: typeof PCM_SAMPLE_RATE;
  /** Whether the VAD found any speech. False: the job answers `ASR_EMPTY` without calling ASR (§8.1). */
  speech: boolean;
  segments: SpeechSegment[];
  /** Length of `pcm`, in ms. */
  durationMs: number;
  /** Length of the audio before trimming, in ms. */
  inputDurationMs: number;
}

export interface PrepareRequest extends EncodedAudio {
  /** As `DetectSpeechRequest.paddingMs`. */
  paddingMs?: number;
}

export interface PreparedAudio extends SpeechAudio {
  /** From decoding (PROTOCOL.md §7.1 says a skipped record is logged as a warning). */
  warnings: AudioWarning[];
}

/** Speech from a TTS service: a WAV body (§9.4 `/tts`) or float/int samples (§9.4 `/synthesize`). */
export type SynthesizedAudio =
  | { kind: 'wav'; bytes: Uint8Array }
  | {
      kind: 'pcm';
      /** Float samples in [-1, 1] (clamped, §7.2) or pcm16 values; mono. */
      samples: Float32Array | Int16Array;
      /** In Hz. */
      sampleRate: number;
    };

export interface EncodeRequest {
  audio: SynthesizedAudio;
  /** `job_assign.tts_format`, `opus` when absent (§7.5). */
  format: AudioFormat;
}

export interface EncodedSpeech {
  /** Plan A (`opus`), raw little-endian samples (`pcm16`), or a 44-byte-header WAV (`wav`). */
  bytes: Uint8Array;
  format: AudioFormat;
  /** Always 16 000: every output format is resampled to 16 kHz mono (§7.5). */
  sampleRate: typeof PCM_SAMPLE_RATE;
  /** Duration of the encoded audio, in ms (opus: packets × 20 ms, so the padded last frame counts). */
  durationMs: number;
}

export interface AudioPort {
  /** Any input format → 16 kHz mono pcm16. */
  decode(input: EncodedAudio, signal: AbortSignal): Promise<DecodedAudio>;
  /** Silero VAD over 16 kHz pcm16: trims leading and trailing silence, reports whether there was speech. */
  detectSpeech(input: DetectSpeechRequest, signal: AbortSignal): Promise<SpeechAudio>;
  /** `decode` then `detectSpeech` in one worker round trip: what a job does with its utterance. */
  prepare(input: PrepareRequest, signal: AbortSignal): Promise<PreparedAudio>;
  /** TTS output → the session's format at 16 kHz (PROTOCOL.md §7.5, resampled before encoding). */
  encode(input: EncodeRequest, signal: AbortSignal): Promise<EncodedSpeech>;
  /** Idempotent and bounded: in-flight work gets a grace period, then the workers are terminated. */
  close(): Promise<void>;
}
