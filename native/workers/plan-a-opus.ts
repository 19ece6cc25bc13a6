/**
 * Opus "Plan A" for the audio worker (PROTOCOL.md §7.1): records of `[u16 LE length][packet]`,
 * 16 kHz mono, one packet per 20 ms. The splitter mirrors `src/protocol/plan-a.ts`, which a worker
 * may not load (STYLE.md §1): zero-length records are skipped, packets over 4 096 bytes are skipped
 * with a warning, and a truncated final record is ignored with a warning.
 *
 * Opus runs on @evan/opus's WebAssembly build, not its native addon: the addon decodes into one
 * process-wide static buffer (two threads decoding at once corrupt each other's output) and a worker
 * thread that loaded it crashes the whole process with SIGSEGV when it exits. Each worker gets its
 * own WebAssembly instance, which is safe to run in parallel and to terminate.
 */
import { Decoder, Encoder } from '@evan/opus/wasm/index.mjs';
import type { AudioWarning } from '../../src/kernel/ports/audio.port.js';
import { TARGET_RATE } from './pcm-convert.js';
import { TaskRefusal } from './task-refusal.js';

export const FRAME_SAMPLES = 320;
export const FRAME_MS = 20;
const MAX_PLAN_A_PACKET_BYTES = 4096;
const MAX_OPUS_PACKET_BYTES = 1275;
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;

export interface OpusSettings {
  bitrateBps: number;
  complexity: number;
}

export function splitPlanA(bytes: Uint8Array): { packets: Uint8Array[]; warnings: AudioWarning[] } {
  const packets: Uint8Array[] = [];
  const warnings: AudioWarning[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 2 > bytes.byteLength) {
      warnings.push({ kind: 'truncated_record', offset, length: 0 });
      break;
    }
    const length = bytes[offset]! | (bytes[offset + 1]! << 8);
    const end = offset + 2 + length;
    if (end > bytes.byteLength) {
      warnings.push({ kind: 'truncated_record', offset, length });
      break;
    }
    if (length > MAX_PLAN_A_PACKET_BYTES) warnings.push({ kind: 'oversized_packet', offset, length });
    else if (length > 0) packets.push(bytes.subarray(offset + 2, end));
    offset = end;
  }
  return { packets, warnings };
}

/** Plan A → 16 kHz mono pcm16. One invalid packet fails the whole input. */
export function decodePlanA(bytes: Uint8Array): { i16: Int16Array; warnings: AudioWarning[] } {
  const { packets, warnings } = splitPlanA(bytes);
  const decoder = new Decoder({ channels: 1, sample_rate: TARGET_RATE });
  try {
    const frames: Uint8Array[] = [];
    let total = 0;
    packets.forEach((packet, index) => {
      let frame: Uint8Array;
      try {
        frame = decoder.decode(packet);
      } catch (error) {
        throw new TaskRefusal('invalid_opus_packet', `Opus packet ${index} does not decode: ${(error as Error).message}`, { packet: index });
      }
      frames.push(frame);
      total += frame.byteLength;
    });
    const out = new Uint8Array(total);
    let at = 0;
    for (const frame of frames) {
      out.set(frame, at);
      at += frame.byteLength;
    }
    return { i16: new Int16Array(out.buffer, 0, total >> 1), warnings };
  } finally {
    decoder.drop();
  }
}

/**
 * 16 kHz mono pcm16 → Plan A: VOIP application, one packet per 20 ms frame, the last frame padded
 * with zeros (PROTOCOL.md §7.1). Returns the bytes and the packet count.
 */
export function encodePlanA(i16: Int16Array, settings: OpusSettings): { bytes: Uint8Array; packets: number } {
  const encoder = new Encoder({ channels: 1, sample_rate: TARGET_RATE, application: 'voip' });
  try {
    encoder.ctl(OPUS_SET_BITRATE, settings.bitrateBps);
    encoder.ctl(OPUS_SET_COMPLEXITY, settings.complexity);
    const packets: Uint8Array[] = [];
    let size = 0;
    const last = new Int16Array(FRAME_SAMPLES);
    for (let start = 0; start < i16.length; start += FRAME_SAMPLES) {
      let frame = i16.subarray(start, start + FRAME_SAMPLES);
      if (frame.length < FRAME_SAMPLES) {
        last.set(frame);
        frame = last;
      }
      const packet = encoder.encode(frame);
      // Encoders MUST NOT emit empty records nor packets over 1 275 bytes (§7.1); libopus never
      // produces either for one 20 ms frame, so seeing one means the engine is broken.
      if (packet.byteLength === 0 || packet.byteLength > MAX_OPUS_PACKET_BYTES) {
        throw new Error(`Opus encoder produced a packet of ${packet.byteLength} bytes`);
      }
      packets.push(packet);
      size += 2 + packet.byteLength;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const packet of packets) {
      bytes[at] = packet.byteLength & 0xff;
      bytes[at + 1] = packet.byteLength >> 8;
      bytes.set(packet, at + 2);
      at += 2 + packet.byteLength;
    }
    return { bytes, packets: packets.length };
  } finally {
    encoder.drop();
  }
}
