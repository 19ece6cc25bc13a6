import { describe, expect, it } from 'vitest';
import { buildCapabilityReport } from '../../../src/actors/node/capability-report.js';
import { buildNodeHeartbeat, buildNodeRegister, resourceUsageOf } from '../../../src/actors/node/node-messages.js';
import { NodeHeartbeatSchema, NodeRegisterSchema, parseNodeToScheduler } from '../../../src/protocol/node-link.schema.js';
import { encodeFrame } from '../../../src/protocol/validation.js';
import { fakeService } from '../../fakes/service-registry.fake.js';
import type { FakeServiceInput } from '../../fakes/service-registry.fake.js';

const report = (services: FakeServiceInput[], allowCpuServices = false) => buildCapabilityReport(services.map(fakeService), { allowCpuServices });

describe('capability report (PROTOCOL.md §3.3)', () => {
  it('§12 item 16: languages per type from running services; a starting service is reported stopped', () => {
    const r = report([
      { id: 'asr-zh-en', type: 'asr', state: 'running', languages: { asr: ['zh', 'en'] } },
      { id: 'mt-zh-en', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'zh', tgt: 'en' }] } },
      { id: 'tts-en', type: 'tts', state: 'running', languages: { tts: ['en'] } },
      { id: 'tts-zh', type: 'tts', state: 'stopped', languages: { tts: ['zh'] } },
      { id: 'tts-fr', type: 'tts', state: 'starting', languages: { tts: ['fr'] } },
    ]);
    expect(r.language_capabilities).toEqual({
      asr_languages: ['en', 'zh'],
      tts_languages: ['en'],
      nmt_pairs: [{ src: 'zh', tgt: 'en' }],
      semantic_languages: ['en'],
      semantic_core_ready: true,
    });
    expect(r.installed_services.find((s) => s.service_id === 'tts-fr')?.status).toBe('stopped');
    expect(r.installed_services.find((s) => s.service_id === 'tts-zh')?.status).toBe('stopped');
  });

  it('adding an English-only TTS does not remove Chinese ASR (no intersection across types)', () => {
    const r = report([
      { id: 'asr-zh', type: 'asr', state: 'running', languages: ['zh'] },
      { id: 'tts-en', type: 'tts', state: 'running', languages: ['en'] },
    ]);
    expect(r.language_capabilities.asr_languages).toEqual(['zh']);
    expect(r.language_capabilities.tts_languages).toEqual(['en']);
    // No NMT, so the compat shim has no target to offer.
    expect(r.language_capabilities.semantic_languages).toEqual([]);
    expect(r.language_capabilities.semantic_core_ready).toBe(false);
  });

  it('running semantic services give semantic_languages; the NMT×TTS shim applies only when none runs', () => {
    const base: FakeServiceInput[] = [
      { id: 'mt', type: 'nmt', state: 'running', languages: { nmt_any_to_any: ['en', 'es'] } },
      { id: 'tts', type: 'tts', state: 'running', languages: { tts: ['es', 'en'] } },
    ];
    expect(report(base).language_capabilities.semantic_languages).toEqual(['en', 'es']);
    const withSemantic = report([...base, { id: 'sem-zh', type: 'semantic', state: 'running', languages: { semantic: ['zh-CN'] } }]);
    expect(withSemantic.language_capabilities.semantic_languages).toEqual(['zh']);
    const semanticStopped = report([...base, { id: 'sem-zh', type: 'semantic', state: 'stopped', languages: { semantic: ['zh'] } }]);
    expect(semanticStopped.language_capabilities.semantic_languages).toEqual(['en', 'es']);
  });

  it('language lists are normalized and sorted', () => {
    const r = report([
      { id: 'a1', type: 'asr', state: 'running', languages: ['zh-CN', 'EN-us', 'auto'] },
      { id: 'a2', type: 'asr', state: 'running', languages: ['en', 'pt-BR'] },
      { id: 'm', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'zh-TW', tgt: 'en-GB' }, { src: 'zh', tgt: 'en' }, { src: 'en', tgt: 'en' }] } },
    ]);
    expect(r.language_capabilities.asr_languages).toEqual(['en', 'pt', 'zh']);
    expect(r.language_capabilities.nmt_pairs).toEqual([{ src: 'zh', tgt: 'en' }]);
  });

  it('installed_services: only wire ServiceTypes; device cpu stays cpu, auto and gpu report gpu; status via wireStatusOf; last_error only in error', () => {
    const r = report([
      { id: 'asr', type: 'asr', state: 'running', device: 'auto', version: '1.2.0', memMb: 812.6, warmupMs: 4200.4 },
      { id: 'lex', type: 'lexicon', state: 'running' },
      { id: 'mt', type: 'nmt', state: 'failed', device: 'cpu', lastError: 'exited with code 1' },
      { id: 'tts', type: 'tts', state: 'stopping', device: 'gpu', lastError: 'old failure' },
      { id: 'punc', type: 'punctuation', state: 'backoff', lastError: 'health check failed 3 times' },
    ]);
    expect(r.installed_services).toEqual([
      { service_id: 'asr', type: 'asr', device: 'gpu', status: 'running', version: '1.2.0', mem_mb: 813, warmup_ms: 4200 },
      { service_id: 'mt', type: 'nmt', device: 'cpu', status: 'error', last_error: 'exited with code 1' },
      { service_id: 'tts', type: 'tts', device: 'gpu', status: 'stopped' },
      { service_id: 'punc', type: 'punctuation', device: 'gpu', status: 'error', last_error: 'health check failed 3 times' },
    ]);
    expect(r.capability_by_type.map((c) => c.type)).toEqual(['asr', 'nmt', 'tts', 'punctuation']);
  });

  it('capability_by_type: ready on a running GPU service, CPU only with allow_cpu_services, and the reasons', () => {
    const services: FakeServiceInput[] = [
      { id: 'asr-gpu', type: 'asr', state: 'running', device: 'gpu' },
      { id: 'asr-cpu', type: 'asr', state: 'running', device: 'cpu' },
      { id: 'mt-cpu', type: 'nmt', state: 'running', device: 'cpu' },
      { id: 'tts-gpu', type: 'tts', state: 'error', device: 'gpu' },
      { id: 'tts-cpu', type: 'tts', state: 'running', device: 'cpu' },
      { id: 'sem', type: 'semantic', state: 'starting', device: 'gpu' },
    ];
    expect(report(services).capability_by_type).toEqual([
      { type: 'asr', ready: true, ready_impl_ids: ['asr-gpu', 'asr-cpu'] },
      { type: 'nmt', ready: false, reason: 'only_cpu_running' },
      { type: 'tts', ready: false, reason: 'gpu_impl_not_running' },
      { type: 'semantic', ready: false, reason: 'no_running_impl' },
    ]);
    expect(report(services, true).capability_by_type).toEqual([
      { type: 'asr', ready: true, ready_impl_ids: ['asr-gpu', 'asr-cpu'] },
      { type: 'nmt', ready: true, ready_impl_ids: ['mt-cpu'] },
      { type: 'tts', ready: true, ready_impl_ids: ['tts-cpu'] },
      { type: 'semantic', ready: false, reason: 'no_running_impl' },
    ]);
  });

  it('no services: empty lists, semantic_core_ready false', () => {
    expect(report([])).toEqual({
      installed_services: [],
      capability_by_type: [],
      language_capabilities: { asr_languages: [], tts_languages: [], semantic_languages: [], semantic_core_ready: false, nmt_pairs: [] },
    });
  });
});

describe('node_register and node_heartbeat built from the report', () => {
  const r = report([{ id: 'asr-en', type: 'asr', state: 'running', languages: ['en'] }]);
  const identity = { version: '0.1.0', epoch: '7c0f7e1e-2b1a-4c55-9d2f-0b8f3f1d6a11', acceptPublicJobs: true, maxConcurrentJobs: 4 };

  it('node_register carries every field §2.2 asks a linguamesh node for, and round-trips through the scheduler parser', () => {
    const message = buildNodeRegister({ identity, nodeId: undefined, platform: 'linux', hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'GPU', memory_gb: 12 }] }, report: r });
    expect(Object.keys(message).sort()).toEqual(
      ['type', 'version', 'capability_schema_version', 'platform', 'hardware', 'installed_models', 'installed_services', 'capability_by_type', 'features_supported', 'accept_public_jobs', 'language_capabilities', 'max_concurrent_jobs', 'epoch'].sort(),
    );
    expect(message).toMatchObject({ capability_schema_version: '2.0', installed_models: [], features_supported: {}, max_concurrent_jobs: 4, epoch: identity.epoch });
    const parsed = parseNodeToScheduler(encodeFrame(message));
    expect(parsed.ok && parsed.dropped).toEqual([]);
    expect(NodeRegisterSchema.parse(message)).toEqual(message);
    expect(buildNodeRegister({ identity, nodeId: 'node-3F2A9C1B', platform: 'linux', hardware: { cpu_cores: 1, memory_gb: 1 }, report: r }).node_id).toBe('node-3F2A9C1B');
  });

  it('node_heartbeat: rounded integers, clamped percentages, epoch and seq', () => {
    const usage = resourceUsageOf({ cpuPercent: 23.46, memPercent: 101, gpuPercent: -3 }, 1.4);
    expect(usage).toEqual({ cpu_percent: 23.5, mem_percent: 100, gpu_percent: 0, running_jobs: 1 });
    const message = buildNodeHeartbeat({ nodeId: 'node-3F2A9C1B', timestampMs: 1_767_225_600_000.7, epoch: identity.epoch, seq: 12, usage, report: r });
    expect(message).toMatchObject({ type: 'node_heartbeat', node_id: 'node-3F2A9C1B', timestamp: 1_767_225_600_001, epoch: identity.epoch, seq: 12 });
    expect(NodeHeartbeatSchema.parse(message)).toEqual(message);
  });
});
