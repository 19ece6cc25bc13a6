/**
 * PROTOCOL.md §1.5 "Invalid list items" [fix]: in hardware.gpus, installed_models,
 * installed_services, capability_by_type and language_capabilities.nmt_pairs an invalid item is
 * dropped with a record, and the message stays valid (§12 item 6).
 */
import { describe, expect, it } from 'vitest';
import { parseNodeToScheduler, type NodeHeartbeat, type NodeRegister } from '../../../src/protocol/index.js';

const asr = { service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' };

function heartbeat(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    type: 'node_heartbeat',
    node_id: 'node-3F2A9C1B',
    timestamp: 1767225600000,
    resource_usage: { cpu_percent: 1, mem_percent: 2, running_jobs: 0 },
    installed_services: [asr],
    capability_by_type: [{ type: 'asr', ready: true }],
    ...overrides,
  });
}

function register(overrides: Record<string, unknown>): string {
  return JSON.stringify({
    type: 'node_register',
    version: '0.1.0',
    platform: 'linux',
    hardware: { cpu_cores: 8, memory_gb: 32, gpus: [{ name: 'GPU', memory_gb: 12 }] },
    installed_models: [],
    capability_by_type: [],
    features_supported: {},
    accept_public_jobs: true,
    ...overrides,
  });
}

describe('lenient lists', () => {
  it('drops an installed service of type lexicon and keeps the asr one', () => {
    const result = parseNodeToScheduler(register({ installed_services: [asr, { service_id: 'lex-zh', type: 'lexicon', device: 'gpu', status: 'running' }] }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeRegister).installed_services).toEqual([asr]);
    expect(result.dropped).toHaveLength(1);
    expect(result.dropped[0]).toMatchObject({ path: 'installed_services[1]' });
    expect(result.dropped[0]?.reason).toContain('type');
  });

  it('drops installed services with device npu or status starting', () => {
    const result = parseNodeToScheduler(heartbeat({ installed_services: [{ ...asr, device: 'npu' }, asr, { ...asr, status: 'starting' }] }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeHeartbeat).installed_services).toEqual([asr]);
    expect(result.dropped.map((d) => d.path)).toEqual(['installed_services[0]', 'installed_services[2]']);
  });

  it('drops a gpu without memory_gb, or with a fractional one', () => {
    const result = parseNodeToScheduler(register({ hardware: { cpu_cores: 8, memory_gb: 32, gpus: [{ name: 'A' }, { name: 'B', memory_gb: 11.5 }, { name: 'C', memory_gb: 24 }] } }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeRegister).hardware.gpus).toEqual([{ name: 'C', memory_gb: 24 }]);
    expect(result.dropped.map((d) => d.path)).toEqual(['hardware.gpus[0]', 'hardware.gpus[1]']);
  });

  it('drops a capability_by_type entry of an unknown type or without ready', () => {
    const result = parseNodeToScheduler(heartbeat({ capability_by_type: [{ type: 'lexicon', ready: true }, { type: 'nmt' }, { type: 'asr', ready: true, devices: ['gpu'] }] }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeHeartbeat).capability_by_type).toEqual([{ type: 'asr', ready: true }]);
    expect(result.dropped.map((d) => d.path)).toEqual(['capability_by_type[0]', 'capability_by_type[1]']);
  });

  it('drops an nmt pair with a missing member', () => {
    const result = parseNodeToScheduler(heartbeat({ language_capabilities: { asr_languages: ['en'], nmt_pairs: [{ src: 'en' }, { src: 'en', tgt: 'es' }] } }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeHeartbeat).language_capabilities?.nmt_pairs).toEqual([{ src: 'en', tgt: 'es' }]);
    expect(result.dropped).toEqual([expect.objectContaining({ path: 'language_capabilities.nmt_pairs[0]' })]);
  });

  it('drops an installed model of an unknown kind', () => {
    const model = { model_id: 'm', kind: 'asr', version: '1' };
    const result = parseNodeToScheduler(register({ installed_models: [{ ...model, kind: 'lexicon' }, model] }));
    if (!result.ok) throw result.error;
    expect((result.value as NodeRegister).installed_models).toEqual([model]);
    expect(result.dropped.map((d) => d.path)).toEqual(['installed_models[0]']);
  });

  it('still rejects a lenient list that is not a list', () => {
    expect(parseNodeToScheduler(heartbeat({ installed_services: { asr } })).ok).toBe(false);
  });

  it('does not carry dropped items over into the next parse', () => {
    parseNodeToScheduler(heartbeat({ installed_services: [{ ...asr, type: 'lexicon' }] }));
    const clean = parseNodeToScheduler(heartbeat({}));
    if (!clean.ok) throw clean.error;
    expect(clean.dropped).toEqual([]);
  });
});
