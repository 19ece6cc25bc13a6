/**
 * Which service a stage calls (PROTOCOL.md §8.4) and why none can (§8.3): languages per type, least
 * in flight among running ones, then a startable one, then the reason.
 */
import { describe, expect, it } from 'vitest';
import { availabilityProblem, chooseService, supports } from '../../../src/actors/node/service-choice.js';
import { fakeService } from '../../fakes/service-registry.fake.js';

const none = () => 0;

describe('service choice', () => {
  it('matches the type and the languages of each stage, normalized', () => {
    const asr = fakeService({ id: 'a', type: 'asr', state: 'running', languages: { asr: ['en-US', 'zh-CN'] } });
    const nmt = fakeService({ id: 'n', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'zh', tgt: 'en' }] } });
    const tts = fakeService({ id: 't', type: 'tts', state: 'running', languages: { voices: { es: ['es-la'] } } });
    expect(supports(asr, { stage: 'asr', lang: 'zh', anyOf: [] })).toBe(true);
    expect(supports(asr, { stage: 'asr', lang: 'fr', anyOf: [] })).toBe(false);
    expect(supports(asr, { stage: 'asr', lang: 'auto', anyOf: [] })).toBe(true);
    expect(supports(asr, { stage: 'asr', lang: 'auto', anyOf: ['fr', 'en'] })).toBe(true);
    expect(supports(asr, { stage: 'asr', lang: 'auto', anyOf: ['fr', 'de'] })).toBe(false);
    expect(supports(nmt, { stage: 'nmt', src: 'zh', tgt: 'en' })).toBe(true);
    expect(supports(nmt, { stage: 'nmt', src: 'en', tgt: 'zh' })).toBe(false);
    expect(supports(tts, { stage: 'tts', lang: 'es' })).toBe(true);
    expect(supports(asr, { stage: 'tts', lang: 'en' })).toBe(false);
  });

  it('least in flight first, registry order on ties, skipping the excluded', () => {
    const services = ['t1', 't2', 't3'].map((id, i) => fakeService({ id, type: 'tts', state: 'running', languages: { tts: ['es'], voices: { es: [`v${i}`] } }, baseUrl: `http://127.0.0.1:${7000 + i}` }));
    const load: Record<string, number> = { t1: 2, t2: 1, t3: 1 };
    const need = { stage: 'tts', lang: 'es' } as const;
    expect(chooseService(services, need, [], (id) => load[id] ?? 0)).toEqual({
      kind: 'running',
      service: { ref: { id: 't2', baseUrl: 'http://127.0.0.1:7001', ttsEndpoint: '/tts' }, voices: ['v1'], startupTimeoutMs: 60_000 },
    });
    expect(chooseService(services, need, ['t2'], (id) => load[id] ?? 0)).toMatchObject({ kind: 'running', service: { ref: { id: 't3' } } });
  });

  it('a running service wins over a startable one; with none running, the first enabled stopped or starting one', () => {
    const need = { stage: 'asr', lang: 'en', anyOf: [] } as const;
    const stopped = fakeService({ id: 'cold', type: 'asr', state: 'stopped', languages: ['en'], startupTimeoutMs: 9_000 });
    const disabled = fakeService({ id: 'off', type: 'asr', state: 'stopped', languages: ['en'], enabled: false });
    const hot = fakeService({ id: 'hot', type: 'asr', state: 'running', languages: ['en'] });
    expect(chooseService([disabled, stopped, hot], need, [], none)).toMatchObject({ kind: 'running', service: { ref: { id: 'hot' } } });
    expect(chooseService([disabled, stopped, hot], need, ['hot'], none)).toEqual({ kind: 'startable', serviceId: 'cold', startupTimeoutMs: 9_000 });
    expect(chooseService([fakeService({ id: 'warming', type: 'asr', state: 'starting', languages: ['en'] })], need, [], none)).toMatchObject({ kind: 'startable', serviceId: 'warming' });
    expect(chooseService([disabled, stopped, hot], need, ['hot', 'cold'], none)).toEqual({ kind: 'none', unavailable: { service_id: 'off', reason: 'not_running' } });
  });

  it('reasons (§8.3): not_installed with the type as id, error for a crashed one, not_running for a disabled one', () => {
    const need = { stage: 'nmt', src: 'en', tgt: 'es' } as const;
    expect(availabilityProblem([], need)).toEqual({ service_id: 'nmt', reason: 'not_installed' });
    const crashed = fakeService({ id: 'mt', type: 'nmt', state: 'backoff', languages: { nmt: [{ src: 'en', tgt: 'es' }] }, version: '2.0.0' });
    expect(availabilityProblem([crashed], need)).toEqual({ service_id: 'mt', reason: 'error', service_version: '2.0.0' });
    const disabled = fakeService({ id: 'mt', type: 'nmt', state: 'stopped', languages: { nmt: [{ src: 'en', tgt: 'es' }] }, enabled: false });
    expect(availabilityProblem([disabled], need)).toEqual({ service_id: 'mt', reason: 'not_running' });
    expect(availabilityProblem([{ ...disabled, enabled: true }], need)).toBeUndefined();
  });
});
