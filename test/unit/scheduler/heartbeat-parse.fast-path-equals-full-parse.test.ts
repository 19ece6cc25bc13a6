/**
 * The heartbeat parser's fast path gives the same message as the full parse: it reuses the last
 * parsed capability report only when the received one is structurally equal to it.
 */
import { describe, expect, it } from 'vitest';
import { parseNodeFrame } from '../../../src/actors/scheduler/heartbeat-parse.js';
import type { ReportParts } from '../../../src/actors/scheduler/heartbeat-parse.js';
import { samePlainData } from '../../../src/actors/scheduler/plain-data.js';
import { parseNodeToScheduler } from '../../../src/protocol/index.js';
import type { NodeHeartbeat } from '../../../src/protocol/index.js';
import { heartbeatFrame, registerFrame } from '../../support/node-frames.js';

const MAX = 8 * 1024 * 1024;
const frame = (value: object) => Buffer.from(JSON.stringify(value));

function previousOf(value: object): ReportParts {
  const parsed = parseNodeToScheduler(frame(value));
  if (!parsed.ok || parsed.value.type !== 'node_heartbeat') throw new Error('fixture does not parse');
  const { installed_services, capability_by_type, language_capabilities } = parsed.value;
  return { installed_services, capability_by_type, language_capabilities };
}

describe('heartbeat parse fast path', () => {
  it('reuses the previous report objects for an unchanged report, and equals the full parse', () => {
    const previous = previousOf(heartbeatFrame('node-1', 1));
    const next = frame(heartbeatFrame('node-1', 2, {}, { resource_usage: { cpu_percent: 99, mem_percent: 1, running_jobs: 3 } }));
    const fast = parseNodeFrame(next, MAX, previous);
    const full = parseNodeToScheduler(next);
    expect(fast.ok && full.ok).toBe(true);
    if (!fast.ok || !full.ok) return;
    const message = fast.value as NodeHeartbeat;
    expect(message.installed_services).toBe(previous.installed_services);
    expect(message.capability_by_type).toBe(previous.capability_by_type);
    expect(message.language_capabilities).toBe(previous.language_capabilities);
    expect(samePlainData(fast.value, full.value)).toBe(true);
    expect(message.resource_usage.cpu_percent).toBe(99);
  });

  it('parses in full when the report changed, when a member is unknown, or when a value is null', () => {
    const previous = previousOf(heartbeatFrame('node-1', 1));
    const changed = heartbeatFrame('node-1', 2, { tts: ['es', 'fr'] });
    const withUnknown = heartbeatFrame('node-1', 2, {}, { capability_by_type: [{ type: 'asr', ready: true, devices: ['gpu'] }] });
    const withNull = heartbeatFrame('node-1', 2, {}, { language_capabilities: null });
    for (const value of [changed, withUnknown, withNull]) {
      const fast = parseNodeFrame(frame(value), MAX, previous);
      const full = parseNodeToScheduler(frame(value));
      expect(fast.ok).toBe(true);
      if (!fast.ok || !full.ok) continue;
      expect(samePlainData(fast.value, full.value)).toBe(true);
      expect((fast.value as NodeHeartbeat).capability_by_type).not.toBe(previous.capability_by_type);
    }
  });

  it('reports an invalid heartbeat like the full parser, naming the field', () => {
    const previous = previousOf(heartbeatFrame('node-1', 1));
    const invalid = frame(heartbeatFrame('node-1', 2, {}, { resource_usage: { cpu_percent: 1, mem_percent: 1, running_jobs: 1.5 } }));
    const fast = parseNodeFrame(invalid, MAX, previous);
    expect(fast.ok).toBe(false);
    if (fast.ok) return;
    expect(fast.error).toMatchObject({ code: 'INVALID_MESSAGE', details: { type: 'node_heartbeat' } });
    expect(fast.error.reason).toContain('resource_usage.running_jobs');
  });

  it('parses other messages, and frames over the size limit, exactly as the protocol parser does', () => {
    const previous = previousOf(heartbeatFrame('node-1', 1));
    const register = frame(registerFrame());
    expect(parseNodeFrame(register, MAX, previous)).toEqual(parseNodeToScheduler(register));
    const big = frame(heartbeatFrame('node-1', 2, {}, { pad: 'x'.repeat(200) }));
    const tooBig = parseNodeFrame(big, 100, previous);
    expect(tooBig.ok).toBe(false);
    if (!tooBig.ok) expect(tooBig.error.reason).toContain('exceeds max_frame_bytes');
  });
});

describe('plain data equality', () => {
  it('treats undefined members as absent and compares arrays in order', () => {
    expect(samePlainData({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(samePlainData({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(samePlainData([1, 2], [2, 1])).toBe(false);
    expect(samePlainData({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(samePlainData([], {})).toBe(false);
  });
});
