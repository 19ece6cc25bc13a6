/**
 * RIFF/WAVE to pcm16 (PROTOCOL.md §7.3): what the scheduler does with an `utterance` whose
 * `audio_format` is `wav` before dispatching it as `pcm16` at the file's rate (§6.5). The `fmt ` and
 * `data` chunks are found by walking the chunk list (never a fixed 44-byte header); 16-bit PCM only,
 * mono or stereo (downmixed). Pure byte work: no I/O.
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface WavPcm16 {
  /** Mono signed 16-bit little-endian samples (§7.2). */
  pcm: Buffer;
  /** The rate the file states, in Hz. */
  sampleRate: number;
  /** Channels in the file (the samples are already mono). */
  channels: number;
}

export type WavReadResult = { ok: true; value: WavPcm16 } | { ok: false; reason: string };

function tagAt(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset] ?? 0, bytes[offset + 1] ?? 0, bytes[offset + 2] ?? 0, bytes[offset + 3] ?? 0);
}

/** Reads a WAV into mono pcm16; never throws. */
export function wavToPcm16(bytes: Uint8Array): WavReadResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || tagAt(bytes, 0) !== 'RIFF' || tagAt(bytes, 8) !== 'WAVE') return { ok: false, reason: 'not a RIFF/WAVE file' };
  let format: { code: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = tagAt(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.byteLength) return { ok: false, reason: 'truncated fmt chunk' };
      let code = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
      if (code === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.byteLength) code = view.getUint16(body + 24, true);
      format = { code, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) return { ok: false, reason: 'data chunk before fmt chunk' };
      if (format.code !== WAVE_FORMAT_PCM || format.bits !== 16) return { ok: false, reason: `only 16-bit PCM is supported (format ${format.code}, ${format.bits} bits)` };
      if (format.channels < 1 || format.channels > 2 || format.sampleRate < 1) return { ok: false, reason: 'mono or stereo at a positive rate only' };
      // A streamed WAV declares a size it never wrote: clamp to what is there.
      const end = Math.min(bytes.byteLength, body + size);
      return { ok: true, value: { pcm: downmix(view, body, end, format.channels), sampleRate: format.sampleRate, channels: format.channels } };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    offset = body + size + (size % 2);
  }
  return { ok: false, reason: format ? 'no data chunk' : 'no fmt chunk' };
}

function downmix(view: DataView, start: number, end: number, channels: number): Buffer {
  const frames = Math.floor((end - start) / (2 * channels));
  if (channels === 1) return Buffer.from(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + frames * 2));
  const out = Buffer.allocUnsafe(frames * 2);
  for (let i = 0; i < frames; i += 1) {
    const left = view.getInt16(start + i * 4, true);
    const right = view.getInt16(start + i * 4 + 2, true);
    out.writeInt16LE(Math.round((left + right) / 2), i * 2);
  }
  return out;
}
