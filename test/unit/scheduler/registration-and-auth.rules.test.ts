/**
 * The registration checks in their order (PROTOCOL.md §4.1), the token check (§1.2) and the
 * scheduler options' defaults and validation.
 */
import { describe, expect, it } from 'vitest';
import { isAuthorized, tokensEqual } from '../../../src/actors/scheduler/auth.js';
import { checkRegistration } from '../../../src/actors/scheduler/registration-rules.js';
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from '../../../src/actors/scheduler/scheduler-options.js';
import { parseNodeToScheduler } from '../../../src/protocol/index.js';
import type { NodeRegister } from '../../../src/protocol/index.js';
import { registerFrame } from '../../support/node-frames.js';

function register(overrides: Record<string, unknown> = {}): NodeRegister {
  const parsed = parseNodeToScheduler(JSON.stringify(registerFrame(overrides)));
  if (!parsed.ok || parsed.value.type !== 'node_register') throw new Error('fixture does not parse');
  return parsed.value;
}

const free = { allowCpuNodes: false, boundNodeId: undefined, heldElsewhere: () => false };

describe('registration checks', () => {
  it('checks the schema version before the GPU, and the GPU before a conflict', () => {
    const everything = register({ capability_schema_version: '3.0', hardware: { cpu_cores: 1, memory_gb: 1 }, node_id: 'node-1' });
    expect(checkRegistration(everything, { ...free, heldElsewhere: () => true })).toMatchObject({ ok: false, code: 'INVALID_CAPABILITY_SCHEMA' });
    const noGpu = register({ hardware: { cpu_cores: 1, memory_gb: 1 }, node_id: 'node-1' });
    expect(checkRegistration(noGpu, { ...free, heldElsewhere: () => true })).toMatchObject({ ok: false, code: 'NO_GPU_AVAILABLE' });
    expect(checkRegistration(register({ node_id: 'node-1' }), { ...free, heldElsewhere: () => true })).toMatchObject({ ok: false, code: 'NODE_ID_CONFLICT' });
  });

  it('accepts with the given id, or none to assign', () => {
    expect(checkRegistration(register({ node_id: 'node-1' }), free)).toEqual({ ok: true, nodeId: 'node-1' });
    expect(checkRegistration(register(), free)).toEqual({ ok: true, nodeId: undefined });
    expect(checkRegistration(register({ capability_schema_version: null }), free)).toMatchObject({ ok: true });
  });

  it('re-registers a bound connection under its own id only', () => {
    const bound = { ...free, boundNodeId: 'node-1', heldElsewhere: () => true };
    expect(checkRegistration(register(), bound)).toEqual({ ok: true, nodeId: 'node-1' });
    expect(checkRegistration(register({ node_id: 'node-1' }), bound)).toEqual({ ok: true, nodeId: 'node-1' });
    expect(checkRegistration(register({ node_id: 'node-2' }), bound)).toMatchObject({ ok: false, code: 'INVALID_MESSAGE', details: { reason: 'NODE_ID_MISMATCH' } });
  });
});

describe('token check', () => {
  it('compares in constant time whatever the lengths', () => {
    expect(tokensEqual('secret', 'secret')).toBe(true);
    expect(tokensEqual('secret', 'secreT')).toBe(false);
    expect(tokensEqual('secret', 'a-much-longer-guess')).toBe(false);
  });

  it('reads a Bearer header, else the token parameter; a present header is the only one checked', () => {
    const none = new URLSearchParams();
    expect(isAuthorized('t', 'Bearer t', none)).toBe(true);
    expect(isAuthorized('t', 'bearer  t ', none)).toBe(true);
    expect(isAuthorized('t', 'Basic dDp0', new URLSearchParams('token=t'))).toBe(false);
    expect(isAuthorized('t', undefined, new URLSearchParams('token=t'))).toBe(true);
    expect(isAuthorized('a b', undefined, new URLSearchParams('token=a%20b'))).toBe(true);
    expect(isAuthorized('t', undefined, none)).toBe(false);
  });
});

describe('scheduler options', () => {
  it('defaults to PROTOCOL.md §0.5', () => {
    expect(resolveSchedulerConfig()).toMatchObject({ ...DEFAULT_SCHEDULER_CONFIG, requiredServiceTypes: ['asr', 'nmt', 'tts'] });
  });

  it('refuses bad values with INVALID_CONFIG', () => {
    expect(() => resolveSchedulerConfig({ port: 70_000 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveSchedulerConfig({ store: 'mongodb://x' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveSchedulerConfig({ storeTtlMs: 50_000 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveSchedulerConfig({ failureCount: 6 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveSchedulerConfig({ bogus: 1 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(resolveSchedulerConfig({ store: 'redis://127.0.0.1:6379/2', authToken: undefined }).store).toBe('redis://127.0.0.1:6379/2');
  });
});
