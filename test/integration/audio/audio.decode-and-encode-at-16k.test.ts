import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import { systemClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { splitPlanA } from '../../../src/protocol/plan-a.js';
import { dominantHz, espeakWav, pcmBytes, planA, sine, wavBytes } from '../../support/audio-fixtures.js';

let pool: AudioPool;
let dir: string;
const signal = new AbortController().signal;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'linguamesh-audio-'));
  pool = await startAudioPool({ maxThreads: 2 }, { logger: silentLogger(), clock: systemClock });
});

afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function opusPackets(seconds: number): Promise<Uint8Array[]> {
  const encoded = await pool.encode({ audio: { kind: 'pcm', samples: sine(440, 16_000, seconds), sampleRate: 16_000 }, format: 'opus' }, signal);
  return splitPlanA(encoded.bytes).packets;
}

describe('Opus Plan A input (PROTOCOL.md §7.1, §12 item 36)', () => {
  it('decodes three 20 ms packets, skipping a zero-length record and a truncated last record, to 960 samples', async () => {
    const packets = await opusPackets(0.06);
    expect(packets).toHaveLength(3);
    const bytes = planA([
      { packet: packets[0]! },
      { packet: new Uint8Array(0) },
      { packet: packets[1]! },
      { packet: packets[2]! },
      { length: 50, packet: new Uint8Array(10) },
    ]);
    const decoded = await pool.decode({ bytes, format: 'opus', sampleRate: 16_000 }, signal);
    expect(decoded.pcm.length).toBe(960);
    expect(decoded.sampleRate).toBe(16_000);
    expect(decoded.durationMs).toBe(60);
    expect(decoded.warnings).toEqual([expect.objectContaining({ kind: 'truncated_record', length: 50 })]);
  });

  it('skips a record over 4 096 bytes and keeps the rest', async () => {
    const [first] = await opusPackets(0.02);
    const bytes = planA([{ packet: new Uint8Array(5000).fill(1) }, { packet: first! }]);
    const decoded = await pool.decode({ bytes, format: 'opus', sampleRate: 16_000 }, signal);
    expect(decoded.pcm.length).toBe(320);
    expect(decoded.warnings).toEqual([expect.objectContaining({ kind: 'oversized_packet', length: 5000 })]);
  });

  it('decodes empty input to empty audio', async () => {
    const decoded = await pool.decode({ bytes: new Uint8Array(0), format: 'opus', sampleRate: 16_000 }, signal);
    expect(decoded.pcm.length).toBe(0);
  });
});

describe('TTS output (PROTOCOL.md §7.5, §12 item 36)', () => {
  it('turns a 1.0 s WAV at 22 050 Hz into Plan A that decodes to 1.0 s ± 20 ms at 16 kHz, at the right pitch', async () => {
    const wav = wavBytes({ sampleRate: 22_050, samples: sine(440, 22_050, 1.0) });
    const encoded = await pool.encode({ audio: { kind: 'wav', bytes: wav }, format: 'opus' }, signal);
    expect(encoded).toMatchObject({ format: 'opus', sampleRate: 16_000 });
    const packets = splitPlanA(encoded.bytes).packets;
    expect(packets.every((p) => p.byteLength > 0 && p.byteLength <= 1275)).toBe(true);
    const decoded = await pool.decode({ bytes: encoded.bytes, format: 'opus', sampleRate: 16_000 }, signal);
    expect(Math.abs(decoded.pcm.length / 16 - 1000)).toBeLessThanOrEqual(20);
    expect(Math.abs(encoded.durationMs - 1000)).toBeLessThanOrEqual(20);
    // Lingua fed 22 050 Hz samples to a 16 kHz encoder: 440 Hz came out at 607 Hz.
    expect(dominantHz(decoded.pcm.subarray(800, 15_200), 16_000)).toBeCloseTo(440, -1);
  });

  it('keeps the duration of real eSpeak NG speech through Opus', async () => {
    const wav = await espeakWav('where is the train station', dir);
    const sourceMs = ((wav.byteLength - 44) / 2 / 22_050) * 1000;
    const encoded = await pool.encode({ audio: { kind: 'wav', bytes: wav }, format: 'opus' }, signal);
    const decoded = await pool.decode({ bytes: encoded.bytes, format: 'opus', sampleRate: 16_000 }, signal);
    expect(Math.abs(decoded.durationMs - sourceMs)).toBeLessThanOrEqual(20);
  });

  it('encodes float samples as pcm16 at 16 kHz, clamped and scaled as §7.2 says', async () => {
    const samples = new Float32Array([0, 0.5, -0.5, 1.5, -1.5, 1, -1]);
    const encoded = await pool.encode({ audio: { kind: 'pcm', samples, sampleRate: 16_000 }, format: 'pcm16' }, signal);
    expect(Array.from(new Int16Array(encoded.bytes.buffer, encoded.bytes.byteOffset, 7))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768]);
    expect(encoded).toMatchObject({ format: 'pcm16', sampleRate: 16_000 });
  });

  it('encodes a WAV as a 16 kHz mono WAV with a canonical header', async () => {
    const encoded = await pool.encode({ audio: { kind: 'wav', bytes: wavBytes({ sampleRate: 22_050, samples: sine(300, 22_050, 0.5) }) }, format: 'wav' }, signal);
    const view = Buffer.from(encoded.bytes);
    expect(view.toString('latin1', 0, 4)).toBe('RIFF');
    expect(view.readUInt32LE(24)).toBe(16_000);
    expect(view.readUInt16LE(22)).toBe(1);
    expect(view.readUInt32LE(40)).toBe(8_000 * 2);
    expect(encoded.durationMs).toBe(500);
    const back = await pool.decode({ bytes: encoded.bytes, format: 'wav', sampleRate: 0 }, signal);
    expect(dominantHz(back.pcm, 16_000)).toBeCloseTo(300, -1);
  });
});

describe('WAV and pcm16 input (PROTOCOL.md §7.2, §7.3)', () => {
  it('walks the chunk list: LIST and odd-sized chunks before data, a chunk before fmt', async () => {
    const samples = sine(500, 16_000, 0.25);
    const wav = wavBytes({
      sampleRate: 16_000,
      samples,
      chunksBeforeFmt: [{ id: 'JUNK', body: new Uint8Array(28) }],
      chunksBeforeData: [
        { id: 'LIST', body: new Uint8Array(Buffer.from('INFOISFT\x0e\x00\x00\x00Lavf58.76.100\x00', 'latin1')) },
        { id: 'odd ', body: new Uint8Array(3) },
      ],
    });
    const decoded = await pool.decode({ bytes: wav, format: 'wav', sampleRate: 0 }, signal);
    expect(Array.from(decoded.pcm)).toEqual(Array.from(samples));
  });

  it('downmixes stereo to the mean of its channels', async () => {
    const frames = 1600;
    const interleaved = new Int16Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      interleaved[2 * i] = 8000;
      interleaved[2 * i + 1] = -2000;
    }
    const decoded = await pool.decode({ bytes: wavBytes({ sampleRate: 16_000, channels: 2, samples: interleaved }), format: 'wav', sampleRate: 0 }, signal);
    expect(decoded.pcm.length).toBe(frames);
    expect(new Set(decoded.pcm)).toEqual(new Set([3000]));
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with a PCM sub-format, at 44.1 kHz, resampled to 16 kHz', async () => {
    const wav = wavBytes({ sampleRate: 44_100, formatCode: 0xfffe, samples: sine(1000, 44_100, 0.5) });
    const decoded = await pool.decode({ bytes: wav, format: 'wav', sampleRate: 0 }, signal);
    expect(decoded.pcm.length).toBe(8000);
    expect(dominantHz(decoded.pcm, 16_000)).toBeCloseTo(1000, -1);
  });

  it('reads a data chunk that claims more bytes than the file holds, up to the last whole sample', async () => {
    const wav = wavBytes({ sampleRate: 16_000, samples: sine(500, 16_000, 0.1) });
    const cut = wav.slice(0, wav.byteLength - 101);
    const decoded = await pool.decode({ bytes: cut, format: 'wav', sampleRate: 0 }, signal);
    expect(decoded.pcm.length).toBe(1600 - 51);
    expect(decoded.warnings).toEqual([expect.objectContaining({ kind: 'truncated_data' })]);
  });

  it('resamples pcm16 from its declared rate and drops an odd final byte', async () => {
    const at8k = pcmBytes(sine(400, 8_000, 0.5));
    const odd = new Uint8Array(at8k.byteLength + 1);
    odd.set(at8k);
    const decoded = await pool.decode({ bytes: odd, format: 'pcm16', sampleRate: 8_000 }, signal);
    expect(decoded.pcm.length).toBe(8_000);
    expect(dominantHz(decoded.pcm, 16_000)).toBeCloseTo(400, -1);
    const same = await pool.decode({ bytes: pcmBytes(sine(400, 16_000, 0.1)), format: 'pcm16', sampleRate: 16_000 }, signal);
    expect(Array.from(same.pcm)).toEqual(Array.from(sine(400, 16_000, 0.1)));
  });

  it('gives the same result for the same input decoded on several threads at once', async () => {
    const wav = wavBytes({ sampleRate: 22_050, samples: sine(700, 22_050, 2) });
    const encoded = await pool.encode({ audio: { kind: 'wav', bytes: wav.slice() }, format: 'opus' }, signal);
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.decode({ bytes: encoded.bytes.slice(), format: 'opus', sampleRate: 16_000 }, signal)));
    const first = Buffer.from(results[0]!.pcm.buffer, results[0]!.pcm.byteOffset, results[0]!.pcm.byteLength).toString('base64');
    for (const r of results) expect(Buffer.from(r.pcm.buffer, r.pcm.byteOffset, r.pcm.byteLength).toString('base64')).toBe(first);
  });
});
