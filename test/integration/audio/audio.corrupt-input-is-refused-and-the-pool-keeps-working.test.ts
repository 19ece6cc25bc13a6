import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import { systemClock } from '../../../src/kernel/clock.js';
import { isKernelError } from '../../../src/kernel/errors.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { AudioFormat } from '../../../src/kernel/ports/audio.port.js';
import { planA, sine, wavBytes } from '../../support/audio-fixtures.js';

let pool: AudioPool;
const signal = new AbortController().signal;

beforeAll(async () => {
  pool = await startAudioPool({ maxThreads: 1 }, { logger: silentLogger(), clock: systemClock });
});

afterAll(async () => {
  await pool?.close();
});

const goodWav = () => wavBytes({ sampleRate: 16_000, samples: sine(440, 16_000, 0.1) });

async function stillWorks(): Promise<void> {
  const decoded = await pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, signal);
  expect(decoded.pcm.length).toBe(1600);
}

const corrupt: Array<[name: string, bytes: () => Uint8Array, format: string, sampleRate: number, reason: string]> = [
  ['an Opus packet that is not Opus', () => planA([{ packet: new Uint8Array([0xff, 0xff, 0xff]) }]), 'opus', 16_000, 'invalid_opus_packet'],
  ['a WAV cut inside its fmt chunk', () => goodWav().slice(0, 30), 'wav', 0, 'malformed_fmt_chunk'],
  ['a WAV cut before its data chunk', () => goodWav().slice(0, 40), 'wav', 0, 'no_data_chunk'],
  ['garbage declared as WAV', () => new Uint8Array(Buffer.from('this is not audio at all, just text')), 'wav', 0, 'not_riff_wave'],
  ['pcm16 bytes declared as WAV', () => new Uint8Array(sine(440, 16_000, 0.1).buffer), 'wav', 0, 'not_riff_wave'],
  ['a 24-bit WAV', () => wavBytes({ sampleRate: 16_000, bitsPerSample: 24, rawData: new Uint8Array(300) }), 'wav', 0, 'unsupported_wav_encoding'],
  ['a float WAV', () => wavBytes({ sampleRate: 16_000, formatCode: 3, bitsPerSample: 16, rawData: new Uint8Array(300) }), 'wav', 0, 'unsupported_wav_encoding'],
  ['a WAV at 0 Hz', () => wavBytes({ sampleRate: 0, samples: sine(440, 16_000, 0.1) }), 'wav', 0, 'unsupported_sample_rate'],
  ['pcm16 declared at 0 Hz', () => new Uint8Array(640), 'pcm16', 0, 'unsupported_sample_rate'],
  ['pcm16 declared at 44.1 kHz and a fraction', () => new Uint8Array(640), 'pcm16', 44_100.5, 'unsupported_sample_rate'],
  ['an unknown format', () => new Uint8Array(640), 'mp3', 16_000, 'unsupported_format'],
];

describe('corrupt input', () => {
  it.each(corrupt)('refuses %s with a non-retryable AUDIO_DECODE_FAILED, and the pool keeps working', async (_name, bytes, format, sampleRate, reason) => {
    const failure = await pool.decode({ bytes: bytes(), format: format as AudioFormat, sampleRate }, signal).catch((e: unknown) => e);
    expect(isKernelError(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'AUDIO_DECODE_FAILED', retryable: false, details: { reason } });
    await stillWorks();
  });

  it('refuses corrupt input to prepare() the same way', async () => {
    const failure = pool.prepare({ bytes: planA([{ packet: new Uint8Array([0xff, 0xff, 0xff]) }]), format: 'opus', sampleRate: 16_000 }, signal);
    await expect(failure).rejects.toMatchObject({ code: 'AUDIO_DECODE_FAILED', retryable: false });
    await stillWorks();
  });

  it('refuses a malformed TTS WAV and an impossible rate with AUDIO_ENCODE_FAILED', async () => {
    await expect(pool.encode({ audio: { kind: 'wav', bytes: goodWav().slice(0, 30) }, format: 'opus' }, signal)).rejects.toMatchObject({
      code: 'AUDIO_ENCODE_FAILED',
      retryable: false,
      details: { reason: 'malformed_fmt_chunk' },
    });
    await expect(pool.encode({ audio: { kind: 'pcm', samples: new Float32Array(100), sampleRate: -5 }, format: 'pcm16' }, signal)).rejects.toMatchObject({
      code: 'AUDIO_ENCODE_FAILED',
      details: { reason: 'unsupported_sample_rate' },
    });
    await expect(pool.encode({ audio: { kind: 'pcm', samples: new Float32Array(100), sampleRate: 16_000 }, format: 'flac' as AudioFormat }, signal)).rejects.toMatchObject({
      code: 'AUDIO_ENCODE_FAILED',
      details: { reason: 'unsupported_format' },
    });
    await stillWorks();
  });
});
