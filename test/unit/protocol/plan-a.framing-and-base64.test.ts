/**
 * Opus Plan A framing (PROTOCOL.md §7.1, §12 item 36) and base64 input rules (§7.4).
 */
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, isBase64, joinPlanA, planADurationMs, splitPlanA } from '../../../src/protocol/index.js';

/** A 20 ms Opus silence packet, as in the PROTOCOL.md examples. */
const SILENCE = Uint8Array.from([0xf8, 0xff, 0xfe]);

function record(packet: Uint8Array, declaredLength = packet.byteLength): Buffer {
  const header = Buffer.alloc(2);
  header.writeUInt16LE(declaredLength);
  return Buffer.concat([header, packet]);
}

describe('Plan A', () => {
  it('splits three packets, skips a zero-length record and ignores a truncated last record with a warning', () => {
    const bytes = Buffer.concat([record(SILENCE), record(new Uint8Array(0)), record(SILENCE), record(SILENCE), record(SILENCE.subarray(0, 2), 3)]);
    const split = splitPlanA(bytes);
    expect(split.packets.map((p) => Buffer.from(p).toString('hex'))).toEqual(['f8fffe', 'f8fffe', 'f8fffe']);
    expect(split.warnings).toEqual([{ kind: 'truncated_record', offset: bytes.byteLength - 4, length: 3 }]);
    expect(planADurationMs(bytes)).toBe(60);
  });

  it('ignores a lone trailing length byte with a warning', () => {
    const bytes = Buffer.concat([record(SILENCE), Buffer.from([0x03])]);
    const split = splitPlanA(bytes);
    expect(split.packets).toHaveLength(1);
    expect(split.warnings).toEqual([{ kind: 'truncated_record', offset: 5, length: 0 }]);
  });

  it('skips a packet over 4096 bytes without failing, and keeps one of exactly 4096', () => {
    const bytes = Buffer.concat([record(new Uint8Array(4097)), record(SILENCE), record(new Uint8Array(4096))]);
    const split = splitPlanA(bytes);
    expect(split.packets.map((p) => p.byteLength)).toEqual([3, 4096]);
    expect(split.warnings).toEqual([{ kind: 'oversized_packet', offset: 0, length: 4097 }]);
  });

  it('returns nothing for empty input', () => {
    expect(splitPlanA(new Uint8Array(0))).toEqual({ packets: [], warnings: [] });
    expect(planADurationMs(new Uint8Array(0))).toBe(0);
  });

  it('joins packets into records, leaving out empty ones, and survives concatenation', () => {
    const joined = joinPlanA([SILENCE, new Uint8Array(0), Uint8Array.from([1, 2])]);
    expect(joined.toString('hex')).toBe('0300f8fffe02000102');
    const twice = Buffer.concat([joined, joined]);
    expect(splitPlanA(twice).packets).toHaveLength(4);
    expect(planADurationMs(twice)).toBe(80);
  });

  it('refuses to frame a packet over the Opus maximum of 1275 bytes', () => {
    expect(() => joinPlanA([new Uint8Array(1276)])).toThrow(RangeError);
    expect(joinPlanA([new Uint8Array(1275)]).byteLength).toBe(1277);
  });

  it('reads the audio of the PROTOCOL.md examples as 20 ms silence packets', () => {
    const bytes = decodeBase64('AwD4//4DAPj//gMA+P/+AwD4//4DAPj//g==');
    expect(bytes).toBeDefined();
    const split = splitPlanA(bytes ?? new Uint8Array(0));
    expect(split.warnings).toEqual([]);
    expect(split.packets).toHaveLength(5);
    expect(split.packets.every((p) => Buffer.from(p).equals(Buffer.from(SILENCE)))).toBe(true);
  });
});

describe('base64', () => {
  it('decodes padded and unpadded input alike', () => {
    expect(decodeBase64('AwD4//4=')?.toString('hex')).toBe('0300f8fffe');
    expect(decodeBase64('AwD4//4')?.toString('hex')).toBe('0300f8fffe');
    expect(decodeBase64('AQ')?.toString('hex')).toBe('01');
    expect(decodeBase64('')?.byteLength).toBe(0);
  });

  it('reports invalid input as undefined instead of decoding around it', () => {
    expect(decodeBase64('@@not base64@@')).toBeUndefined();
    expect(decodeBase64('AwD4_-4')).toBeUndefined();
    expect(decodeBase64('A')).toBeUndefined();
    expect(decodeBase64('AQ=')).toBeUndefined();
    expect(decodeBase64('AQ==AQ==')).toBeUndefined();
    expect(decodeBase64('AwD4 //4=')).toBeUndefined();
    expect(isBase64('AwD4//4=')).toBe(true);
  });

  it('checks every character of a long text: one bad character anywhere makes it invalid', () => {
    const valid = Buffer.from(Array.from({ length: 30_001 }, (_, i) => (i * 7_919) & 255)).toString('base64');
    expect(isBase64(valid)).toBe(true);
    expect(decodeBase64(valid)?.byteLength).toBe(30_001);
    expect(isBase64(valid.replace(/=+$/, ''))).toBe(true);
    for (const bad of ['-', '_', ' ', '\n', '=', '.', 'é']) {
      for (const at of [0, 1, 2, 3, 4, 20_000, valid.length - 5]) {
        expect(isBase64(`${valid.slice(0, at)}${bad}${valid.slice(at + 1)}`), `${JSON.stringify(bad)} at ${at}`).toBe(false);
      }
    }
    // A character too many or too few in the middle shifts every group after it.
    expect(isBase64(`${valid.slice(0, 100)}${valid.slice(101)}`)).toBe(false);
  });

  it('agrees with decoding and encoding again for every UTF-16 code unit, alone or as a whole group, anywhere', () => {
    const reference = (text: string) => !text.slice(0, -4).includes('=') && Buffer.from(text, 'base64').toString('base64') === text;
    const valid = Buffer.from(Array.from({ length: 3_000 }, (_, i) => (i * 37) & 255)).toString('base64');
    let checked = 0;
    for (let code = 0; code < 0x10000; code++) {
      const c = String.fromCharCode(code);
      for (const at of [0, 2, 2_001]) {
        for (const text of [`${valid.slice(0, at)}${c}${valid.slice(at + 1)}`, `${valid.slice(0, at)}${c.repeat(4)}${valid.slice(at + 4)}`]) {
          if (isBase64(text) !== reference(text)) expect.fail(`U+${code.toString(16)} at ${at}: isBase64 ${isBase64(text)}`);
          checked++;
        }
      }
    }
    expect(checked).toBe(0x10000 * 6);
  });

  it('answers alike for texts it has seen: a remembered valid text never vouches for another of its length', () => {
    const bytes = Buffer.from(Array.from({ length: 12_000 }, (_, i) => (i * 31) & 255));
    const made = encodeBase64(bytes);
    expect(isBase64(made)).toBe(true);
    // The same characters in a different string object, and the same length with one character changed.
    expect(isBase64(`${made.slice(0, 10)}${made.slice(10)}`)).toBe(true);
    expect(isBase64(`${made.slice(0, 5_000)}-${made.slice(5_001)}`)).toBe(false);
    // More valid texts than are remembered: the first is checked again, with the same answer.
    const others = Array.from({ length: 6 }, (_, k) => Buffer.alloc(9_000, k).toString('base64'));
    for (const other of others) expect(isBase64(other)).toBe(true);
    expect(isBase64(made)).toBe(true);
    expect(decodeBase64(made)?.equals(bytes)).toBe(true);
  });

  it('agrees with the RFC 4648 grammar on short texts of every shape', () => {
    const grammar = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
    const alphabet = ['A', 'Q', 'z', '9', '+', '/', '=', '=', '-', '_', ' '];
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    for (let n = 0; n < 20_000; n++) {
      const text = Array.from({ length: next() % 13 }, () => alphabet[next() % alphabet.length]).join('');
      expect(isBase64(text), JSON.stringify(text)).toBe(grammar.test(text));
    }
  });

  it('encodes with padding', () => {
    expect(encodeBase64(Uint8Array.from([1]))).toBe('AQ==');
    expect(encodeBase64(Buffer.from([0, 1, 2, 3]).subarray(1, 3))).toBe('AQI=');
  });
});
