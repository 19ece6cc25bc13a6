/**
 * The audio of a `POST /utterance` (PROTOCOL.md §9.2) on its way to the decoder: 16 kHz mono pcm16.
 * Accepts `pcm16` at its `sample_rate` (§7.2), `wav` at the rate in its header (§7.3) and `opus` in
 * Plan-A framing (§7.1). The HTTP thread only checks the request and decodes base64
 * (`checkUtteranceAudio`); parsing, Opus decoding and resampling, which cost up to a second for
 * long audio, run in the decoder worker (`toDecoderSamples`) so health checks never wait on them.
 */
import { decodeBase64Strict } from '../shared/base64.js';
import { pcm16FromBytes } from '../shared/pcm16.js';
import { PLAN_A_SAMPLE_RATE, decodePlanA } from '../shared/plan-a-opus.js';
import { resamplePcm16 } from '../shared/resample.js';
import { ServiceError } from '../shared/service-error.js';
import { readWav } from '../shared/wav.js';

export const DECODER_SAMPLE_RATE = 16_000;
/** Rates a pcm16 request may declare, in Hz. */
const MIN_RATE = 8_000;
const MAX_RATE = 192_000;

export const AUDIO_FORMATS = ['pcm16', 'wav', 'opus'] as const;
export type AudioFormat = (typeof AUDIO_FORMATS)[number];

/** Request audio as bytes, checked but not yet decoded. */
export interface EncodedAudio {
  format: AudioFormat;
  /** Owns its ArrayBuffer (never a slice of Node's shared Buffer pool), so it can be transferred. */
  bytes: Uint8Array;
  /** Declared rate; used for pcm16 only. */
  sampleRate: number | undefined;
}

export interface UtteranceAudioInput {
  audio: string;
  audio_format: string;
  sample_rate?: number | null | undefined;
}

function isAudioFormat(value: string): value is AudioFormat {
  return (AUDIO_FORMATS as readonly string[]).includes(value);
}

export function checkUtteranceAudio(input: UtteranceAudioInput): EncodedAudio {
  const format = input.audio_format.trim().toLowerCase();
  if (!isAudioFormat(format)) throw new ServiceError(400, 'UNSUPPORTED_AUDIO_FORMAT', `audio_format must be one of ${AUDIO_FORMATS.join(', ')}`);
  const sampleRate = input.sample_rate ?? undefined;
  if (format === 'pcm16' && (sampleRate === undefined || sampleRate < MIN_RATE || sampleRate > MAX_RATE)) {
    throw new ServiceError(400, 'INVALID_REQUEST', `sample_rate must be between ${MIN_RATE} and ${MAX_RATE} for pcm16`);
  }
  const decoded = decodeBase64Strict(input.audio, 'audio');
  if (decoded.length === 0) throw new ServiceError(400, 'EMPTY_AUDIO', 'audio is empty');
  // A copy into a buffer of its own: small Buffers share a pool that must never be transferred.
  return { format, bytes: new Uint8Array(decoded), sampleRate };
}

export interface DecoderSamples {
  samples: Int16Array;
  /** Things worth a warning that did not fail the request (Plan A allows both, §7.1). */
  warnings: ('plan_a_truncated' | 'plan_a_oversized_packets')[];
}

export function toDecoderSamples(audio: EncodedAudio, maxSeconds: number): DecoderSamples {
  const warnings: DecoderSamples['warnings'] = [];
  let samples: Int16Array;
  let rate: number;
  switch (audio.format) {
    case 'pcm16':
      samples = pcm16FromBytes(audio.bytes);
      rate = audio.sampleRate ?? DECODER_SAMPLE_RATE;
      break;
    case 'wav': {
      const wav = readWav(audio.bytes);
      if (wav.sampleRate < MIN_RATE || wav.sampleRate > MAX_RATE) throw new ServiceError(400, 'INVALID_AUDIO', `WAV sample rate ${wav.sampleRate} is out of range`);
      samples = wav.samples;
      rate = wav.sampleRate;
      break;
    }
    case 'opus': {
      const decoded = decodePlanA(audio.bytes);
      if (decoded.truncated) warnings.push('plan_a_truncated');
      if (decoded.skipped > 0) warnings.push('plan_a_oversized_packets');
      samples = decoded.samples;
      rate = PLAN_A_SAMPLE_RATE;
      break;
    }
    default: {
      const never: never = audio.format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
  if (samples.length === 0) throw new ServiceError(400, 'EMPTY_AUDIO', 'audio holds no samples');
  if (samples.length / rate > maxSeconds) throw new ServiceError(400, 'AUDIO_TOO_LONG', `audio is longer than ${maxSeconds} s`);
  return { samples: resamplePcm16(samples, rate, DECODER_SAMPLE_RATE), warnings };
}
