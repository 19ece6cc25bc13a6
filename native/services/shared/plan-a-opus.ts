/**
 * Opus coding for Plan A (PROTOCOL.md §7.1): 16 kHz mono, one 20 ms packet (320 samples) each,
 * VOIP application at 24 kbit/s, the last frame zero-padded.
 *
 * Uses @evan/opus's WebAssembly build, as the node's audio worker does: the ASR service decodes in
 * several worker threads, and the native addon decodes into one process-wide static buffer, so two
 * threads decoding at once corrupt each other's samples (measured: 55 of 60 concurrent decodes
 * differed from a single-threaded one, and the ASR's word error rate on Opus rose under load). Each
 * thread gets its own WebAssembly instance.
 */
import { Decoder, Encoder } from '@evan/opus/wasm/index.mjs';
import { joinPlanA, splitPlanA } from './plan-a.js';
import { pcm16FromBytes } from './pcm16.js';
import { ServiceError } from './service-error.js';

export const PLAN_A_SAMPLE_RATE = 16_000;
export const PLAN_A_FRAME_SAMPLES = 320;
const OPUS_SET_BITRATE = 4002;

export interface DecodedPlanA {
  samples: Int16Array;
  skipped: number;
  truncated: boolean;
}

/** Decodes a Plan-A byte string to 16 kHz pcm16; a packet Opus rejects is `INVALID_AUDIO`. */
export function decodePlanA(bytes: Uint8Array): DecodedPlanA {
  const { packets, skipped, truncated } = splitPlanA(bytes);
  const decoder = new Decoder({ channels: 1, sample_rate: PLAN_A_SAMPLE_RATE });
  const parts: Int16Array[] = [];
  let total = 0;
  try {
    for (const [index, packet] of packets.entries()) {
      let pcm: Uint8Array;
      try {
        pcm = decoder.decode(packet);
      } catch (err) {
        throw new ServiceError(400, 'INVALID_AUDIO', `Opus packet ${index} does not decode`, { cause: err });
      }
      const samples = pcm16FromBytes(pcm);
      parts.push(samples);
      total += samples.length;
    }
  } finally {
    // WebAssembly memory: freed now, not whenever the garbage collector finalizes the decoder.
    decoder.drop();
  }
  const samples = new Int16Array(total);
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  return { samples, skipped, truncated };
}

/** Encodes 16 kHz pcm16 to Plan A. */
export function encodePlanA(samples: Int16Array): Buffer {
  const encoder = new Encoder({ channels: 1, sample_rate: PLAN_A_SAMPLE_RATE, application: 'voip' });
  try {
    encoder.ctl(OPUS_SET_BITRATE, 24_000);
    const packets: Uint8Array[] = [];
    for (let start = 0; start < samples.length; start += PLAN_A_FRAME_SAMPLES) {
      const frame = new Int16Array(PLAN_A_FRAME_SAMPLES);
      frame.set(samples.subarray(start, Math.min(start + PLAN_A_FRAME_SAMPLES, samples.length)));
      packets.push(encoder.encode(frame));
    }
    return joinPlanA(packets);
  } finally {
    encoder.drop();
  }
}
