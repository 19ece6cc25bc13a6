/**
 * RIFF/WAVE reading and writing for the audio worker (PROTOCOL.md §7.3). The reader walks the chunk
 * list for `fmt ` and `data` (never assuming a 44-byte header), accepts 16-bit PCM (format 1, or
 * WAVE_FORMAT_EXTENSIBLE whose sub-format is PCM) with any channel count, averaged to mono, at any
 * rate. A `data` chunk that claims more bytes than the file holds (streaming writers put a
 * placeholder size there) is read up to the last whole frame, with a warning.
 */
import type { AudioWarning } from '../../src/kernel/ports/audio.port.js';
import type { MonoPcm } from './pcm-convert.js';
import { int16View } from './pcm-convert.js';
import { TaskRefusal } from './task-refusal.js';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const MAX_CHANNELS = 8;
const WAV_HEADER_BYTES = 44;

export interface ParsedWav {
  pcm: MonoPcm;
  warnings: AudioWarning[];
}

function fourCC(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

interface WavFormat {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

function readFormat(view: DataView, offset: number, size: number): WavFormat {
  if (size < 16) throw new TaskRefusal('malformed_fmt_chunk', `fmt chunk of ${size} bytes is too short`);
  let format = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  // WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of its sub-format GUID.
  if (format === WAVE_FORMAT_EXTENSIBLE && size >= 26) format = view.getUint16(offset + 24, true);
  if (format !== WAVE_FORMAT_PCM || bitsPerSample !== 16) {
    throw new TaskRefusal('unsupported_wav_encoding', `WAV format ${format} with ${bitsPerSample}-bit samples; only 16-bit PCM is read`, {
      wavFormat: format,
      bitsPerSample,
    });
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new TaskRefusal('unsupported_channel_count', `WAV with ${channels} channels`, { channels });
  return { channels, sampleRate, bitsPerSample };
}

function downmix(interleaved: Int16Array, channels: number): Float32Array {
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  const scale = 1 / (32768 * channels);
  for (let f = 0, i = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[i++]!;
    out[f] = sum * scale;
  }
  return out;
}

export function parseWav(bytes: Uint8Array): ParsedWav {
  if (bytes.byteLength < 12 || fourCC(bytes, 0) !== 'RIFF' || fourCC(bytes, 8) !== 'WAVE') {
    throw new TaskRefusal('not_riff_wave', 'input is not a RIFF/WAVE file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const warnings: AudioWarning[] = [];
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourCC(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + size > bytes.byteLength) throw new TaskRefusal('malformed_fmt_chunk', 'fmt chunk runs past the end of the input');
      format = readFormat(view, body, size);
    } else if (id === 'data') {
      if (!format) throw new TaskRefusal('no_fmt_chunk', 'data chunk before any fmt chunk');
      const frameBytes = 2 * format.channels;
      let length = size;
      if (body + size > bytes.byteLength) {
        length = bytes.byteLength - body;
        warnings.push({ kind: 'truncated_data', offset, length: size });
      }
      length -= length % frameBytes;
      const samples = int16View(bytes.subarray(body, body + length));
      const pcm: MonoPcm = format.channels === 1
        ? { i16: samples, sampleRate: format.sampleRate }
        : { f32: downmix(samples, format.channels), sampleRate: format.sampleRate };
      return { pcm, warnings };
    }
    // Chunks are padded to an even size; the pad byte is not counted in `size`.
    offset = body + size + (size % 2);
  }
  throw new TaskRefusal(format ? 'no_data_chunk' : 'no_fmt_chunk', format ? 'WAV has no data chunk' : 'WAV has no fmt chunk');
}

/** A canonical 44-byte-header WAV of mono pcm16 at `sampleRate` (the samples are copied in once). */
export function writeWav(pcm: Int16Array, sampleRate: number): Uint8Array {
  const out = new Uint8Array(WAV_HEADER_BYTES + pcm.byteLength);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + pcm.byteLength, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, WAVE_FORMAT_PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, pcm.byteLength, true);
  out.set(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), WAV_HEADER_BYTES);
  return out;
}
