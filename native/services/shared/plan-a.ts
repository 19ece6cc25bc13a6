/**
 * Opus "Plan A" framing (PROTOCOL.md §7.1): records `[u16 LE length][packet]`, no header, no
 * trailer. Pure byte handling; the codec itself lives in `plan-a-opus.ts`.
 */

/** Packets above this are skipped, not fatal (§7.1). */
export const MAX_DECODABLE_PACKET_BYTES = 4_096;
/** Encoders never emit more than this per packet (§7.1). */
export const MAX_ENCODED_PACKET_BYTES = 1_275;

export interface PlanAPackets {
  packets: Uint8Array[];
  /** Oversized packets skipped. */
  skipped: number;
  /** True when the last record was cut short (ignored with a warning, §7.1). */
  truncated: boolean;
}

export function splitPlanA(bytes: Uint8Array): PlanAPackets {
  const packets: Uint8Array[] = [];
  let skipped = 0;
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const length = (bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8);
    offset += 2;
    if (offset + length > bytes.length) return { packets, skipped, truncated: true };
    if (length > MAX_DECODABLE_PACKET_BYTES) skipped += 1;
    else if (length > 0) packets.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return { packets, skipped, truncated: offset < bytes.length };
}

export function joinPlanA(packets: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of packets) total += 2 + p.length;
  const out = Buffer.alloc(total);
  let offset = 0;
  for (const p of packets) {
    if (p.length === 0 || p.length > MAX_ENCODED_PACKET_BYTES) throw new RangeError(`Plan A packet of ${p.length} bytes`);
    out.writeUInt16LE(p.length, offset);
    out.set(p, offset + 2);
    offset += 2 + p.length;
  }
  return out;
}
