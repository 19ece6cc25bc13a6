/** Healthy and stale heartbeats (PROTOCOL.md §4.3). */
import { describe, expect, it } from 'vitest';
import { capabilitiesFromReport } from '../../../src/actors/scheduler/node-capabilities.js';
import { isHealthyHeartbeat, isStaleHeartbeat } from '../../../src/actors/scheduler/node-health.js';
import type { HealthRules } from '../../../src/actors/scheduler/node-health.js';

const RULES: HealthRules = { allowCpuNodes: false, requiredServiceTypes: ['asr', 'nmt', 'tts'] };
const allReady = capabilitiesFromReport({ capability_by_type: [{ type: 'asr', ready: true }, { type: 'nmt', ready: true }, { type: 'tts', ready: true }] });
const usage = { cpu_percent: 10, mem_percent: 10, running_jobs: 0 };

describe('healthy heartbeat', () => {
  it('needs a GPU, every required type ready and gpu_percent within [0, 100]', () => {
    expect(isHealthyHeartbeat(true, allReady, usage, RULES)).toBe(true);
    expect(isHealthyHeartbeat(true, allReady, { ...usage, gpu_percent: 100 }, RULES)).toBe(true);
    expect(isHealthyHeartbeat(false, allReady, usage, RULES)).toBe(false);
    expect(isHealthyHeartbeat(true, allReady, { ...usage, gpu_percent: 100.5 }, RULES)).toBe(false);
    expect(isHealthyHeartbeat(true, allReady, { ...usage, gpu_percent: -1 }, RULES)).toBe(false);
    const noTts = capabilitiesFromReport({ capability_by_type: [{ type: 'asr', ready: true }, { type: 'nmt', ready: true }, { type: 'tts', ready: false }] });
    expect(isHealthyHeartbeat(true, noTts, usage, RULES)).toBe(false);
  });

  it('follows required_service_types and allow_cpu_nodes', () => {
    const asrOnly = capabilitiesFromReport({ capability_by_type: [{ type: 'asr', ready: true }] });
    expect(isHealthyHeartbeat(true, asrOnly, usage, { ...RULES, requiredServiceTypes: ['asr'] })).toBe(true);
    expect(isHealthyHeartbeat(false, allReady, usage, { ...RULES, allowCpuNodes: true })).toBe(true);
  });
});

describe('stale heartbeat', () => {
  it('is one of another epoch than the registration, or with a seq not above the last of its epoch', () => {
    expect(isStaleHeartbeat('E', { epoch: 'E', seq: 5 }, 'E', 4)).toBe(true);
    expect(isStaleHeartbeat('E', { epoch: 'E', seq: 5 }, 'E', 5)).toBe(true);
    expect(isStaleHeartbeat('E', { epoch: 'E', seq: 5 }, 'E', 6)).toBe(false);
    expect(isStaleHeartbeat('E', { epoch: 'E', seq: 5 }, 'F', 100)).toBe(true);
    expect(isStaleHeartbeat('E', undefined, 'E', 1)).toBe(false);
  });

  it('never is without epoch (a Lingua node), and accepts any epoch when the registration had none', () => {
    expect(isStaleHeartbeat('E', { epoch: 'E', seq: 5 }, undefined, 1)).toBe(false);
    expect(isStaleHeartbeat(undefined, { epoch: 'F', seq: 5 }, 'G', 1)).toBe(false);
    expect(isStaleHeartbeat(undefined, { epoch: 'F', seq: 5 }, 'F', 5)).toBe(true);
  });
});
