/**
 * The heartbeat parser's fast path gives the same message as the full parse: it reuses the last
 * parsed capability report only when the received one is structurally equal to it.
 */
import { describe, expect, it } from 'vitest';
import { parseNodeFrame, plainVolatile, VolatileHeartbeatSchema } from '../../../src/actors/scheduler/heartbeat-parse.js';
import type { ReportParts } from '../../../src/actors/scheduler/heartbeat-parse.js';
import { samePlainData } from '../../../src/actors/scheduler/plain-data.js';
import { parseNodeToScheduler, parseWith } from '../../../src/protocol/index.js';
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

describe('plain heartbeat fields checked by hand', () => {
  // Every combination of these values, field by field, against the schema itself.
  const FIELD_VALUES: Record<string, unknown[]> = {
    node_id: ['node-1', '', 7, null, undefined],
    timestamp: [1_767_225_600_000, 0, -1, 1.5, '1', null, undefined, Number.MAX_SAFE_INTEGER + 2],
    epoch: ['7c0f7e1e', '', 'x'.repeat(64), 'x'.repeat(65), 3, null, undefined],
    seq: [1, 0, -1, 2.5, null, undefined],
    installed_models: [undefined, [], null],
    rerun_metrics: [undefined, {}],
    extra: [undefined, 'ignored'],
  };
  const USAGE_VALUES: Record<string, unknown[]> = {
    cpu_percent: [23.5, -3, '1', null, undefined],
    mem_percent: [58.1, 0],
    running_jobs: [1, 0, 1.5, -1, undefined],
    gpu_percent: [41, 140, null, 'x', undefined],
    gpu_mem_percent: [undefined, 12.5, null],
    gpu_queue_length: [undefined, 2, 2.5],
    extra: [undefined, true],
  };

  function* combinations(fields: Record<string, unknown[]>): Generator<Record<string, unknown>> {
    const keys = Object.keys(fields);
    const walk = function* (i: number, acc: Record<string, unknown>): Generator<Record<string, unknown>> {
      if (i === keys.length) {
        yield { ...acc };
        return;
      }
      for (const value of fields[keys[i]!]!) {
        if (value === undefined) delete acc[keys[i]!];
        else acc[keys[i]!] = value;
        yield* walk(i + 1, acc);
      }
      delete acc[keys[i]!];
    };
    yield* walk(0, {});
  }

  function check(raw: Record<string, unknown>): boolean {
    const fast = plainVolatile(raw);
    if (fast === undefined) return false;
    const full = parseWith(VolatileHeartbeatSchema, raw, 'node message');
    expect(full.ok).toBe(true);
    if (full.ok) expect(samePlainData(fast, full.value)).toBe(true);
    return true;
  }

  it('accepts only what the schema accepts, and builds what the schema builds', () => {
    const usages = [...combinations(USAGE_VALUES)];
    const validUsage = { cpu_percent: 1, mem_percent: 2, running_jobs: 0 };
    let plain = 0;
    let checked = 0;
    // Every top-level combination (with a rotating resource_usage), then every resource_usage one.
    for (const top of combinations(FIELD_VALUES)) {
      if (check({ type: 'node_heartbeat', ...top, resource_usage: usages[checked % usages.length] })) plain++;
      checked++;
    }
    for (const usage of usages) {
      if (check({ type: 'node_heartbeat', node_id: 'node-1', timestamp: 1, resource_usage: usage })) plain++;
      checked++;
    }
    expect(check({ type: 'node_heartbeat', node_id: 'node-1', timestamp: 1, resource_usage: validUsage })).toBe(true);
    expect(checked).toBeGreaterThan(10_000);
    expect(plain).toBeGreaterThan(100);
  });

  it('takes the plain path for what linguamesh nodes send', () => {
    const raw = JSON.parse(JSON.stringify(heartbeatFrame('node-1', 3))) as Record<string, unknown>;
    expect(plainVolatile(raw)).toEqual({ type: 'node_heartbeat', node_id: 'node-1', timestamp: 1_767_225_600_000, epoch: expect.any(String), seq: 3, resource_usage: { cpu_percent: 23.5, mem_percent: 58.1, gpu_percent: 41, running_jobs: 1 } });
  });
});
