/**
 * Audio inputs for the audio pool tests: WAV files built chunk by chunk (so tests can add LIST
 * chunks, stereo, odd encodings, truncation), sines, Plan-A framing, and real speech from flite.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WavSpec {
  sampleRate: number;
  channels?: number;
  bitsPerSample?: number;
  /** Format code in `fmt ` (1 = PCM, 0xFFFE = extensible with a PCM sub-format). */
  formatCode?: number;
  /** Interleaved samples, written as 16-bit unless `rawData` is given. */
  samples?: Int16Array;
  rawData?: Uint8Array;
  /** Chunks written between `fmt ` and `data`, e.g. `LIST`. */
  chunksBeforeData?: Array<{ id: string; body: Uint8Array }>;
  /** Chunks written before `fmt `. */
  chunksBeforeFmt?: Array<{ id: string; body: Uint8Array }>;
}

function chunk(id: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.byteLength + (body.byteLength % 2));
  out.set(Buffer.from(id, 'latin1'), 0);
  new DataView(out.buffer).setUint32(4, body.byteLength, true);
  out.set(body, 8);
  return out;
}

export function wavBytes(spec: WavSpec): Uint8Array {
  const channels = spec.channels ?? 1;
  const bits = spec.bitsPerSample ?? 16;
  const formatCode = spec.formatCode ?? 1;
  const fmt = new Uint8Array(formatCode === 0xfffe ? 40 : 16);
  const view = new DataView(fmt.buffer);
  view.setUint16(0, formatCode, true);
  view.setUint16(2, channels, true);
  view.setUint32(4, spec.sampleRate, true);
  view.setUint32(8, (spec.sampleRate * channels * bits) / 8, true);
  view.setUint16(12, (channels * bits) / 8, true);
  view.setUint16(14, bits, true);
  if (formatCode === 0xfffe) {
    view.setUint16(16, 22, true);
    view.setUint16(18, bits, true);
    view.setUint16(24, 1, true); // sub-format GUID starts with the PCM format code
  }
  const data = spec.rawData ?? new Uint8Array(spec.samples!.buffer, spec.samples!.byteOffset, spec.samples!.byteLength);
  const parts = [
    ...(spec.chunksBeforeFmt ?? []).map((c) => chunk(c.id, c.body)),
    chunk('fmt ', fmt),
    ...(spec.chunksBeforeData ?? []).map((c) => chunk(c.id, c.body)),
    chunk('data', data),
  ];
  const size = parts.reduce((n, p) => n + p.byteLength, 4);
  const out = new Uint8Array(8 + size);
  out.set(Buffer.from('RIFFxxxxWAVE', 'latin1'));
  new DataView(out.buffer).setUint32(4, size, true);
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A sine of `hz` at `sampleRate`, `seconds` long, amplitude `amp` of full scale. */
export function sine(hz: number, sampleRate: number, seconds: number, amp = 0.5): Int16Array {
  const out = new Int16Array(Math.round(sampleRate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return out;
}

/** Frequency of a tone, from its rising zero crossings. */
export function dominantHz(pcm: Int16Array, sampleRate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1]! < 0 && pcm[i]! >= 0) crossings.push(i);
  if (crossings.length < 2) return 0;
  return ((crossings.length - 1) * sampleRate) / (crossings.at(-1)! - crossings[0]!);
}

/** Plan-A byte string from records given as raw length + bytes (lets tests write bad records). */
export function planA(records: Array<{ length?: number; packet: Uint8Array }>): Uint8Array {
  const parts = records.map(({ length, packet }) => {
    const out = new Uint8Array(2 + packet.byteLength);
    new DataView(out.buffer).setUint16(0, length ?? packet.byteLength, true);
    out.set(packet, 2);
    return out;
  });
  return new Uint8Array(Buffer.concat(parts));
}

export function concatPcm(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function pcmBytes(pcm: Int16Array): Uint8Array {
  return new Uint8Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength));
}

function recordPid(pid: number | undefined): void {
  const dir = process.env.LINGUAMESH_TEST_PIDS_DIR;
  if (dir && pid) appendFileSync(join(dir, `audio-${process.pid}.pids`), `${pid}\n`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = execFile(command, args, { timeout: 20_000 }, (error) => (error ? reject(error) : resolve()));
    recordPid(child.pid);
  });
}

/** A WAV file's bytes, as a TTS service would answer: eSpeak NG (22 050 Hz mono) saying `text`. */
export async function espeakWav(text: string, dir: string): Promise<Uint8Array> {
  const file = join(dir, `espeak-${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
  await run('espeak-ng', ['-v', 'en', '-w', file, text]);
  return new Uint8Array(readFileSync(file));
}

/** Real speech: flite's `slt` voice saying `text`, as 16 kHz mono pcm16 read from its WAV. */
export async function fliteSpeech(text: string, dir: string): Promise<Int16Array> {
  const file = join(dir, `flite-${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
  await run('flite', ['-voice', 'slt', '-t', text, '-o', file]);
  const wav = readFileSync(file);
  if (wav.readUInt32LE(24) !== 16_000 || wav.readUInt16LE(22) !== 1) throw new Error('flite no longer writes 16 kHz mono');
  let offset = 12;
  while (offset + 8 <= wav.byteLength && wav.toString('latin1', offset, offset + 4) !== 'data') offset += 8 + wav.readUInt32LE(offset + 4);
  const size = Math.min(wav.readUInt32LE(offset + 4), wav.byteLength - offset - 8) & ~1;
  return new Int16Array(wav.buffer.slice(wav.byteOffset + offset + 8, wav.byteOffset + offset + 8 + size));
}

/** Where the speech is, from a 10 ms energy envelope: [first, last) sample above -40 dBFS. */
export function energyBounds(pcm: Int16Array, sampleRate = 16_000): { start: number; end: number } {
  const frame = sampleRate / 100;
  let start = -1;
  let end = -1;
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += (pcm[j]! / 32768) ** 2;
    if (Math.sqrt(sum / frame) > 0.01) {
      if (start < 0) start = i;
      end = i + frame;
    }
  }
  return { start, end };
}

export function energy(pcm: Int16Array): number {
  let sum = 0;
  for (const v of pcm) sum += v * v;
  return sum;
}
