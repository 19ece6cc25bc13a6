/**
 * RIFF/WAVE reading and writing (PROTOCOL.md §7.3). The reader walks the chunk list to find `fmt `
 * and `data` (headers are not always 44 bytes: `LIST`, `fact` and padding chunks are common), takes
 * 16-bit PCM in any channel count and any rate, and downmixes to mono.
 */
import { ServiceError } from './service-error.js';

export interface WavAudio {
  sampleRate: number;
  /** Channels in the file (the samples below are already mono). */
  channels: number;
  samples: Int16Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

function invalid(detail: string): ServiceError {
  return new ServiceError(400, 'INVALID_AUDIO', `invalid WAV: ${detail}`);
}

export function readWav(bytes: Uint8Array): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number): string => String.fromCharCode(bytes[offset] ?? 0, bytes[offset + 1] ?? 0, bytes[offset + 2] ?? 0, bytes[offset + 3] ?? 0);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw invalid('not a RIFF/WAVE file');
  let format: { code: number; channels: number; sampleRate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw invalid('truncated fmt chunk');
      let code = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
      if (code === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= bytes.length) code = view.getUint16(body + 24, true);
      format = { code, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!format) throw invalid('data chunk before fmt chunk');
      if (format.code !== WAVE_FORMAT_PCM || format.bits !== 16) throw invalid(`only 16-bit PCM is supported (format ${format.code}, ${format.bits} bits)`);
      if (format.channels < 1 || format.sampleRate < 1) throw invalid('bad channel count or sample rate');
      // A streamed WAV (e.g. espeak-ng --stdout) declares a size it never wrote: clamp to what is there.
      const end = Math.min(bytes.length, body + size);
      return { sampleRate: format.sampleRate, channels: format.channels, samples: downmix(view, body, end, format.channels) };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    offset = body + size + (size % 2);
  }
  throw invalid(format ? 'no data chunk' : 'no fmt chunk');
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function downmix(view: DataView, start: number, end: number, channels: number): Int16Array {
  const frames = Math.floor((end - start) / (2 * channels));
  // Mono on a little-endian host: the data chunk already is the sample array; one copy, no loop.
  if (channels === 1 && LITTLE_ENDIAN_HOST) {
    return new Int16Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + start + frames * 2));
  }
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i += 1) {
    let sum = 0;
    for (let c = 0; c < channels; c += 1) sum += view.getInt16(start + (i * channels + c) * 2, true);
    out[i] = Math.round(sum / channels);
  }
  return out;
}

/** A canonical 44-byte-header WAV of mono 16-bit PCM. */
export function writeWav(samples: Int16Array, sampleRate: number): Buffer {
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  if (LITTLE_ENDIAN_HOST) out.set(new Uint8Array(samples.buffer, samples.byteOffset, dataBytes), 44);
  else for (let i = 0; i < samples.length; i += 1) out.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  return out;
}
