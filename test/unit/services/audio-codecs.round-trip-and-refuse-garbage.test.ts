/**
 * Plan-A framing (PROTOCOL.md §7.1), strict base64 (§7.4) and resampling: what the ASR service
 * does to request audio before it reaches the decoder.
 */
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict } from '../../../native/services/shared/base64.js';
import { joinPlanA, splitPlanA } from '../../../native/services/shared/plan-a.js';
import { decodePlanA, encodePlanA } from '../../../native/services/shared/plan-a-opus.js';
import { resamplePcm16 } from '../../../native/services/shared/resample.js';

function sine(hz: number, rate: number, seconds: number, amplitude = 10_000): Int16Array {
  return Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)));
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

describe('Plan A', () => {
  it('skips empty records and oversized packets, and ignores a truncated final record', () => {
    const big = Buffer.alloc(4_100, 1);
    const bytes = Buffer.concat([joinPlanA([Uint8Array.from([1, 2])]), Buffer.from([0, 0]), Buffer.from([4, 16]), big, Buffer.from([9, 0, 1, 2])]);
    const split = splitPlanA(bytes);
    expect(split.packets.map((p) => [...p])).toEqual([[1, 2]]);
    expect(split).toMatchObject({ skipped: 1, truncated: true });
  });

  it('encodes 20 ms packets that decode back to speech-length audio', () => {
    const input = sine(440, 16_000, 1);
    const decoded = decodePlanA(encodePlanA(input));
    expect(splitPlanA(encodePlanA(input)).packets).toHaveLength(50);
    expect(decoded.samples.length).toBe(16_000);
    expect(rms(decoded.samples)).toBeGreaterThan(rms(input) * 0.5);
  });

  it('refuses a packet Opus cannot decode with INVALID_AUDIO', () => {
    expect(() => decodePlanA(Buffer.from([4, 0, 0xff, 0xff, 0xff, 0xff]))).toThrow(expect.objectContaining({ code: 'INVALID_AUDIO' }));
  });
});

describe('decodeBase64Strict', () => {
  it.each([['aGVsbG8=', 'hello'], ['aGVsbG8', 'hello'], ['', ''], ['aGk=\n', 'hi']])('decodes %j', (text, expected) => {
    expect(decodeBase64Strict(text, 'audio').toString('utf8')).toBe(expected);
  });

  it.each(['aGVsbG8=!', 'a', 'aGVsb-8=', 'aGk==x', 'aGVsbG8==='])('refuses %j with INVALID_BASE64', (text) => {
    expect(() => decodeBase64Strict(text, 'audio')).toThrow(expect.objectContaining({ code: 'INVALID_BASE64' }));
  });
});

describe('resamplePcm16', () => {
  it('keeps a tone below the new Nyquist at its level and length', () => {
    const out = resamplePcm16(sine(440, 48_000, 0.5), 48_000, 16_000);
    expect(out.length).toBe(8_000);
    expect(rms(out.subarray(200, -200)) / rms(sine(440, 16_000, 0.5))).toBeCloseTo(1, 1);
  });

  it('filters out a tone above the new Nyquist instead of aliasing it', () => {
    const out = resamplePcm16(sine(12_000, 48_000, 0.5), 48_000, 16_000);
    expect(rms(out.subarray(200, -200))).toBeLessThan(rms(sine(12_000, 48_000, 0.5)) * 0.05);
  });

  it('upsamples 8 kHz to 16 kHz', () => {
    const out = resamplePcm16(sine(300, 8_000, 0.25), 8_000, 16_000);
    expect(out.length).toBe(4_000);
    expect(rms(out.subarray(100, -100)) / rms(sine(300, 16_000, 0.25))).toBeCloseTo(1, 1);
  });
});
