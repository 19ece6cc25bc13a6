/**
 * Turns the audio of a `POST /utterance` (PROTOCOL.md §9.2) into what the decoder needs: 16 kHz
 * mono pcm16. Accepts `pcm16` at its `sample_rate` (§7.2), `wav` at the rate in its header (§7.3)
 * and `opus` in Plan-A framing (§7.1). Runs on the HTTP thread: decoding Opus and resampling take
 * a few milliseconds per second of audio, against hundreds for recognition.
 */
import { decodeBase64Strict } from '../shared/base64.js';
import { pcm16FromBytes } from '../shared/pcm16.js';
import { PLAN_A_SAMPLE_RATE, decodePlanA } from '../shared/plan-a-opus.js';
import { resamplePcm16 } from '../shared/resample.js';
import { ServiceError } from '../shared/service-error.js';
import type { ServiceLog } from '../shared/service-log.js';
import { readWav } from '../shared/wav.js';

export const DECODER_SAMPLE_RATE = 16_000;
/** Rates a pcm16 request may declare. */
const MIN_RATE = 8_000;
const MAX_RATE = 192_000;

export const AUDIO_FORMATS = ['pcm16', 'wav', 'opus'] as const;

export interface UtteranceAudioInput {
  audio: string;
  audio_format: string;
  sample_rate?: number | null | undefined;
}

export function decodeUtteranceAudio(input: UtteranceAudioInput, maxSeconds: number, log: ServiceLog): Int16Array {
  const format = input.audio_format.trim().toLowerCase();
  if (!(AUDIO_FORMATS as readonly string[]).includes(format)) {
    throw new ServiceError(400, 'UNSUPPORTED_AUDIO_FORMAT', `audio_format must be one of ${AUDIO_FORMATS.join(', ')}`);
  }
  const bytes = decodeBase64Strict(input.audio, 'audio');
  if (bytes.length === 0) throw new ServiceError(400, 'EMPTY_AUDIO', 'audio is empty');
  let samples: Int16Array;
  let rate: number;
  if (format === 'pcm16') {
    rate = input.sample_rate ?? 0;
    if (rate < MIN_RATE || rate > MAX_RATE) throw new ServiceError(400, 'INVALID_REQUEST', `sample_rate must be between ${MIN_RATE} and ${MAX_RATE} for pcm16`);
    samples = pcm16FromBytes(bytes);
  } else if (format === 'wav') {
    const wav = readWav(bytes);
    if (wav.sampleRate < MIN_RATE || wav.sampleRate > MAX_RATE) throw new ServiceError(400, 'INVALID_AUDIO', `WAV sample rate ${wav.sampleRate} is out of range`);
    samples = wav.samples;
    rate = wav.sampleRate;
  } else {
    const decoded = decodePlanA(bytes);
    if (decoded.truncated) log.warn({ format }, 'Plan A: truncated final record ignored');
    if (decoded.skipped > 0) log.warn({ skipped: decoded.skipped }, 'Plan A: oversized packets skipped');
    samples = decoded.samples;
    rate = PLAN_A_SAMPLE_RATE;
  }
  if (samples.length === 0) throw new ServiceError(400, 'EMPTY_AUDIO', 'audio holds no samples');
  if (samples.length / rate > maxSeconds) throw new ServiceError(400, 'AUDIO_TOO_LONG', `audio is longer than ${maxSeconds} s`);
  return resamplePcm16(samples, rate, DECODER_SAMPLE_RATE);
}
