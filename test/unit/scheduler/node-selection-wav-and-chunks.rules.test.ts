/**
 * Pure rules of the scheduler's dispatch side: the order candidates are tried in (PROTOCOL.md
 * §5.3), wav → pcm16 for the `utterance` path (§7.3), and how an `audio_chunk` payload is measured
 * and re-framed (§6.4, §7.1–§7.2).
 */
import { describe, expect, it } from 'vitest';
import { isFull, orderCandidates } from '../../../src/actors/scheduler/node-selection.js';
import type { SelectionCandidate } from '../../../src/actors/scheduler/node-selection.js';
import { measureChunk } from '../../../src/actors/scheduler/session-audio.js';
import { joinPlanA, wavToPcm16 } from '../../../src/protocol/index.js';

const node = (nodeId: string, reservations: number, extra: Partial<SelectionCandidate> = {}): SelectionCandidate => ({ nodeId, maxConcurrentJobs: 4, reservations, runningJobs: 0, lastAssignedAt: undefined, ...extra });
const order = (candidates: SelectionCandidate[], previous?: string) => orderCandidates(candidates, previous).map((c) => c.nodeId);

describe('node selection order', () => {
  it('puts the least loaded first, counting max(reservations, running_jobs)', () => {
    expect(order([node('n1', 2), node('n2', 0)])).toEqual(['n2', 'n1']);
    expect(order([node('n1', 0, { runningJobs: 3 }), node('n2', 1)])).toEqual(['n2', 'n1']);
    expect(order([node('n1', 1, { maxConcurrentJobs: 8 }), node('n2', 1)])).toEqual(['n1', 'n2']);
  });

  it('breaks ties by the least recent dispatch, then by node id in byte order', () => {
    expect(order([node('n2', 1, { lastAssignedAt: 5 }), node('n1', 1, { lastAssignedAt: 9 })])).toEqual(['n2', 'n1']);
    expect(order([node('n1', 1, { lastAssignedAt: 9 }), node('n3', 1), node('n2', 1)])).toEqual(['n2', 'n3', 'n1']);
    expect(order([node('node-b', 0), node('Node-a', 0), node('node-a', 0)])).toEqual(['Node-a', 'node-a', 'node-b']);
  });

  it('leaves full nodes out and puts the previous node first while it is a candidate', () => {
    expect(isFull(node('n', 4))).toBe(true);
    expect(isFull(node('n', 0, { runningJobs: 4 }))).toBe(true);
    expect(order([node('n1', 4), node('n2', 3)])).toEqual(['n2']);
    expect(order([node('n1', 3), node('n2', 0)], 'n1')).toEqual(['n1', 'n2']);
    expect(order([node('n1', 4), node('n2', 0)], 'n1')).toEqual(['n2']);
  });
});

function wav(options: { channels: number; rate: number; samples: number[]; extraChunk?: boolean }): Uint8Array {
  const data = Buffer.alloc(options.samples.length * 2);
  options.samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(options.channels, 10);
  fmt.writeUInt32LE(options.rate, 12);
  fmt.writeUInt32LE(options.rate * 2 * options.channels, 16);
  fmt.writeUInt16LE(2 * options.channels, 20);
  fmt.writeUInt16LE(16, 22);
  const list = options.extraChunk ? Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]) : Buffer.alloc(0);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, list, dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(body.length, 4);
  return new Uint8Array(Buffer.concat([riff, body]));
}

describe('wav → pcm16', () => {
  it('walks the chunk list (an odd LIST chunk before data), keeps the rate, downmixes stereo', () => {
    const mono = wavToPcm16(wav({ channels: 1, rate: 22_050, samples: [1, 2, 3], extraChunk: true }));
    expect(mono).toMatchObject({ ok: true, value: { sampleRate: 22_050, channels: 1 } });
    expect(mono.ok && [...new Int16Array(new Uint8Array(mono.value.pcm).buffer)]).toEqual([1, 2, 3]);
    const stereo = wavToPcm16(wav({ channels: 2, rate: 8_000, samples: [10, 20, -5, -7] }));
    expect(stereo.ok && [...new Int16Array(new Uint8Array(stereo.value.pcm).buffer)]).toEqual([15, -6]);
  });

  it('refuses what is not a 16-bit PCM WAV, with a reason', () => {
    expect(wavToPcm16(new Uint8Array([1, 2, 3]))).toEqual({ ok: false, reason: 'not a RIFF/WAVE file' });
    const eightBit = wav({ channels: 1, rate: 8_000, samples: [1] });
    eightBit[12 + 22 + 8 - 8] = 8;
    expect(wavToPcm16(eightBit)).toMatchObject({ ok: false, reason: expect.stringContaining('16-bit') });
  });
});

describe('audio_chunk payloads', () => {
  it('measures Opus by packets and re-frames it to whole records (a truncated last record is dropped)', () => {
    const framed = joinPlanA([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    const withTail = Buffer.concat([framed, Buffer.from([0, 0]), Buffer.from([9, 0, 1, 2])]);
    const chunk = measureChunk(withTail.toString('base64'), 'opus');
    expect(chunk.durationMs).toBe(40);
    expect([...chunk.bytes]).toEqual([...framed]);
  });

  it('measures pcm16 by bytes (32 per ms) and drops an odd final byte', () => {
    const chunk = measureChunk(Buffer.alloc(321).toString('base64'), 'pcm16');
    expect(chunk.durationMs).toBe(10);
    expect(chunk.bytes.byteLength).toBe(320);
  });

  it('reads no audio from "", an absent payload, invalid base64 or Opus with no packet', () => {
    for (const payload of ['', undefined, '@@@@', Buffer.from([0, 0]).toString('base64')]) expect(measureChunk(payload, 'opus').durationMs).toBe(0);
  });
});
