/**
 * `encodeJson` / `encodeFrame` write long base64 members without JSON.stringify's escape scan:
 * the text must still be the JSON of the same value, and anything that is not base64 (quotes,
 * backslashes, control characters, URL-safe alphabet) must still go through JSON.stringify.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeJson } from '../../../src/protocol/validation.js';

const audio = randomBytes(9_000).toString('base64');

describe('encodeJson', () => {
  it('gives the JSON of the same value when a member is long base64', () => {
    const value = { type: 'job_result', job_id: 'j-1', tts_audio: audio, nested: { a: [1, 'x"y'] } };
    const text = encodeJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain(`"tts_audio":"${audio}"`);
  });

  it('handles an object whose only member is long base64, and several such members', () => {
    expect(JSON.parse(encodeJson({ audio }))).toEqual({ audio });
    const two = { a: audio, b: 'short', c: `${audio}AA==` };
    expect(JSON.parse(encodeJson(two))).toEqual(two);
  });

  it('escapes long strings that are not base64', () => {
    const tricky = ['"', '\\', '\n', '\u0001', '-', '_', ' ', 'é'].map((c) => `${audio.slice(0, 5_000)}${c}${audio.slice(5_000, 6_000)}`);
    for (const s of tricky) {
      const value = { type: 'x', audio: s };
      expect(encodeJson(value)).toBe(JSON.stringify(value));
      expect(JSON.parse(encodeJson(value))).toEqual(value);
    }
  });

  it('leaves short strings and non-strings to JSON.stringify', () => {
    const value = { type: 'x', audio: 'QUJD', n: 3, list: [audio] };
    expect(encodeJson(value)).toBe(JSON.stringify(value));
  });
});

describe('encodeFrame', () => {
  it('still omits absent fields when a member is written verbatim', () => {
    const text = encodeFrame({ type: 'job_assign', audio, vad: null, text: undefined } as { type: string });
    expect(JSON.parse(text)).toEqual({ type: 'job_assign', audio });
  });
});

describe('member order', () => {
  it('writes `type` first, then the long base64 members, then the others, so text never precedes the audio', () => {
    const value = { job_id: 'j-1', text_translated: 'dónde está la estación de tren', tts_audio: audio, type: 'job_result', extra: { n: 1 } };
    const text = encodeJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['type', 'tts_audio', 'job_id', 'text_translated', 'extra']);
    // Everything up to the end of the audio is ASCII: a reader's fast UTF-8 scan covers it.
    const audioEnd = text.indexOf(audio) + audio.length;
    expect(/^[\x20-\x7e]*$/.test(text.slice(0, audioEnd))).toBe(true);
  });

  it('without a string `type`, starts with the base64 members', () => {
    expect(Object.keys(JSON.parse(encodeJson({ text: 'é', audio, type: 3 })) as object)).toEqual(['audio', 'text', 'type']);
    expect(encodeJson({ audio })).toBe(`{"audio":"${audio}"}`);
    expect(encodeJson({ type: 'x', audio })).toBe(`{"type":"x","audio":"${audio}"}`);
  });
});
