/**
 * pcm16 (PROTOCOL.md §7.2): signed 16-bit little-endian mono samples without a header, and the
 * float conversions around it (clamp to [-1, 1], ×32 768 for negatives, ×32 767 for positives).
 */

/** Samples of a pcm16 byte string; an odd final byte is dropped (§7.2). Copies, so alignment is never an issue. */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  const count = bytes.length >> 1;
  const samples = new Int16Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
  for (let i = 0; i < count; i += 1) samples[i] = view.getInt16(i * 2, true);
  return samples;
}

export function pcm16ToBytes(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i += 1) out.writeInt16LE(samples[i] ?? 0, i * 2);
  return out;
}

export function floatToPcm16(samples: ArrayLike<number>): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const v = Math.max(-1, Math.min(1, samples[i] ?? 0));
    out[i] = v < 0 ? Math.round(v * 32_768) : Math.round(v * 32_767);
  }
  return out;
}

export function pcm16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const v = samples[i] ?? 0;
    out[i] = v < 0 ? v / 32_768 : v / 32_767;
  }
  return out;
}
