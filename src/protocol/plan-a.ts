/**
 * Opus "Plan A" framing (PROTOCOL.md §7.1): records of `[length: u16 LE][length bytes of one Opus
 * packet]`, no header, no trailer. Concatenating two Plan-A byte strings gives a valid one, so
 * chunks are joined into utterances by plain concatenation. Pure byte work: no decoder here.
 */

/** One Opus packet per 20 ms frame at 16 kHz mono (320 samples). */
export const PLAN_A_FRAME_MS = 20;
/** Encoders MUST NOT emit larger packets (the Opus maximum). */
export const MAX_OPUS_PACKET_BYTES = 1275;
/** Decoders skip, without failing, packets larger than this. */
export const MAX_PLAN_A_PACKET_BYTES = 4096;

/** Something a decoder stepped over. `offset` is the byte offset of the record's length prefix. */
export interface PlanAWarning {
  kind: 'oversized_packet' | 'truncated_record';
  offset: number;
  /** The record's declared packet length (0 when not even the 2-byte prefix was complete). */
  length: number;
}

export interface PlanASplit {
  /** The non-empty packets, as views into the input (not copies). */
  packets: Uint8Array[];
  warnings: PlanAWarning[];
}

/**
 * Splits a Plan-A byte string into its packets. Never throws: zero-length records are skipped,
 * packets over 4 096 bytes are skipped with a warning, and a truncated final record (fewer bytes
 * left than its length, or a lone length byte) is ignored with a warning (PROTOCOL.md §7.1).
 */
export function splitPlanA(bytes: Uint8Array): PlanASplit {
  const packets: Uint8Array[] = [];
  const warnings: PlanAWarning[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 2 > bytes.byteLength) {
      warnings.push({ kind: 'truncated_record', offset, length: 0 });
      break;
    }
    const length = (bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8);
    const start = offset + 2;
    const end = start + length;
    if (end > bytes.byteLength) {
      warnings.push({ kind: 'truncated_record', offset, length });
      break;
    }
    if (length > MAX_PLAN_A_PACKET_BYTES) {
      warnings.push({ kind: 'oversized_packet', offset, length });
    } else if (length > 0) {
      packets.push(bytes.subarray(start, end));
    }
    offset = end;
  }
  return { packets, warnings };
}

/**
 * Frames packets as Plan A. Empty packets are left out (encoders MUST NOT emit zero-length
 * records); a packet over 1 275 bytes is a programming error and throws a RangeError.
 */
export function joinPlanA(packets: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const packet of packets) {
    if (packet.byteLength > MAX_OPUS_PACKET_BYTES) {
      throw new RangeError(`Opus packet of ${packet.byteLength} bytes exceeds ${MAX_OPUS_PACKET_BYTES}`);
    }
    if (packet.byteLength > 0) size += 2 + packet.byteLength;
  }
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const packet of packets) {
    if (packet.byteLength === 0) continue;
    out.writeUInt16LE(packet.byteLength, offset);
    out.set(packet, offset + 2);
    offset += 2 + packet.byteLength;
  }
  return out;
}

/** Duration of a Plan-A byte string: non-empty packets × 20 ms (PROTOCOL.md §6.4, §7.1). */
export function planADurationMs(bytes: Uint8Array): number {
  return splitPlanA(bytes).packets.length * PLAN_A_FRAME_MS;
}
