/**
 * The WAV reader finds `fmt ` and `data` by walking the chunk list (PROTOCOL.md §7.3): extra and
 * odd-sized chunks, stereo, WAVE_FORMAT_EXTENSIBLE and streamed sizes all read; what is not 16-bit
 * PCM is `INVALID_AUDIO`. The writer's header states the real sizes.
 */
import { describe, expect, it } from 'vitest';
import { readWav, writeWav } from '../../../native/services/shared/wav.js';

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'ascii');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function fmt(channels: number, rate: number, bits = 16, code = 1): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(code, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(rate, 4);
  body.writeUInt32LE((rate * channels * bits) / 8, 8);
  body.writeUInt16LE((channels * bits) / 8, 12);
  body.writeUInt16LE(bits, 14);
  return body;
}

function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), ...chunks]);
  return Buffer.concat([chunk('RIFF', body).subarray(0, 8), body]);
}

const pcm = (values: number[]): Buffer => Buffer.from(Int16Array.from(values).buffer);

describe('readWav', () => {
  it('skips LIST and odd-sized chunks before and between fmt and data', () => {
    const wav = riff(chunk('LIST', Buffer.from('INFOabc')), chunk('fmt ', fmt(1, 22_050)), chunk('fact', Buffer.alloc(4)), chunk('data', pcm([1, -2, 3])));
    expect(readWav(wav)).toEqual({ sampleRate: 22_050, channels: 1, samples: Int16Array.from([1, -2, 3]) });
  });

  it('downmixes stereo to mono', () => {
    const wav = riff(chunk('fmt ', fmt(2, 44_100)), chunk('data', pcm([100, 300, -100, -300])));
    expect(readWav(wav)).toMatchObject({ sampleRate: 44_100, channels: 2, samples: Int16Array.from([200, -200]) });
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with a PCM sub-format', () => {
    const ext = Buffer.concat([fmt(1, 16_000, 16, 0xfffe), Buffer.alloc(24)]);
    ext.writeUInt16LE(22, 16);
    ext.writeUInt16LE(1, 24);
    expect(readWav(riff(chunk('fmt ', ext), chunk('data', pcm([7])))).samples).toEqual(Int16Array.from([7]));
  });

  it('clamps a data size larger than the file (streamed output)', () => {
    const wav = riff(chunk('fmt ', fmt(1, 16_000)), chunk('data', pcm([5, 6])));
    wav.writeUInt32LE(0x7ffff000, wav.length - 8);
    expect(readWav(wav).samples).toEqual(Int16Array.from([5, 6]));
  });

  it.each([
    ['not RIFF', Buffer.from('hello world, this is not audio')],
    ['8-bit PCM', riff(chunk('fmt ', fmt(1, 8_000, 8)), chunk('data', Buffer.alloc(4)))],
    ['float PCM', riff(chunk('fmt ', fmt(1, 8_000, 32, 3)), chunk('data', Buffer.alloc(8)))],
    ['no data chunk', riff(chunk('fmt ', fmt(1, 8_000)))],
    ['data before fmt', riff(chunk('data', pcm([1])), chunk('fmt ', fmt(1, 8_000)))],
  ])('refuses %s with INVALID_AUDIO', (_name, bytes) => {
    expect(() => readWav(bytes)).toThrow(expect.objectContaining({ code: 'INVALID_AUDIO', status: 400 }));
  });
});

describe('writeWav', () => {
  it('writes a 44-byte header with the real sizes that readWav reads back', () => {
    const samples = Int16Array.from([0, 32_767, -32_768, 5]);
    const wav = writeWav(samples, 22_050);
    expect(wav.length).toBe(44 + 8);
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.readUInt32LE(40)).toBe(8);
    expect(readWav(wav)).toEqual({ sampleRate: 22_050, channels: 1, samples });
  });
});
