/**
 * Capability reports as normalized sets (PROTOCOL.md §5.1): a reordered report is no change,
 * Lingua nodes get derived NMT pairs, an absent `language_capabilities` keeps the last one, and a
 * type is ready per §4.3 rule 2.
 */
import { describe, expect, it } from 'vitest';
import { capabilitiesFromReport, derivedNmtPairs, isTypeReady, sameCapabilities } from '../../../src/actors/scheduler/node-capabilities.js';
import type { CapabilityReport } from '../../../src/actors/scheduler/node-capabilities.js';

const report: CapabilityReport = {
  installed_services: [
    { service_id: 'tts-es', type: 'tts', device: 'gpu', status: 'running' },
    { service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' },
  ],
  capability_by_type: [
    { type: 'tts', ready: true, ready_impl_ids: ['tts-b', 'tts-a'] },
    { type: 'asr', ready: true },
  ],
  language_capabilities: { asr_languages: ['en-US', 'zh_CN', 'auto', 'en'], tts_languages: ['es'], nmt_pairs: [{ src: 'en', tgt: 'es' }, { src: 'zh-cn', tgt: 'en-gb' }, { src: 'en', tgt: 'en' }] },
};

describe('capabilities from a report', () => {
  it('normalizes languages and pairs and sorts every list', () => {
    const caps = capabilitiesFromReport(report);
    expect(caps.asrLanguages).toEqual(['en', 'zh']);
    expect(caps.nmtPairs).toEqual([{ src: 'en', tgt: 'es' }, { src: 'zh', tgt: 'en' }]);
    expect(caps.installedServices.map((s) => s.service_id)).toEqual(['asr-en', 'tts-es']);
    expect(caps.capabilityByType).toEqual([{ type: 'asr', ready: true }, { type: 'tts', ready: true, ready_impl_ids: ['tts-a', 'tts-b'] }]);
    expect(caps.nmtPairsReported).toBe(true);
  });

  it('finds a reordered report the same, and a changed one not (§12 item 23)', () => {
    const reordered: CapabilityReport = {
      installed_services: [...report.installed_services!].reverse(),
      capability_by_type: [...report.capability_by_type].reverse().map((c) => (c.ready_impl_ids ? { ...c, ready_impl_ids: ['tts-a', 'tts-b'] } : c)),
      language_capabilities: { asr_languages: ['zh', 'en'], tts_languages: ['es', 'es'], nmt_pairs: [{ src: 'zh', tgt: 'en' }, { src: 'en', tgt: 'es' }] },
    };
    const caps = capabilitiesFromReport(report);
    expect(sameCapabilities(capabilitiesFromReport(reordered), caps)).toBe(true);
    const stopped = { ...report, installed_services: [report.installed_services![0]!, { ...report.installed_services![1]!, status: 'stopped' as const }] };
    expect(sameCapabilities(capabilitiesFromReport(stopped), caps)).toBe(false);
  });

  it('derives a Lingua node\'s pairs from asr × semantic, or asr × tts without semantic languages (§5.1)', () => {
    const lingua = capabilitiesFromReport({ capability_by_type: [], language_capabilities: { asr_languages: ['zh', 'en'], tts_languages: ['en', 'zh'], semantic_languages: ['zh', 'en'] } });
    expect(lingua.nmtPairsReported).toBe(false);
    expect(lingua.nmtPairs).toEqual([{ src: 'en', tgt: 'zh' }, { src: 'zh', tgt: 'en' }]);
    expect(derivedNmtPairs(['en', 'fr'], [], ['de'])).toEqual([{ src: 'en', tgt: 'de' }, { src: 'fr', tgt: 'de' }]);
    expect(derivedNmtPairs(['en'], ['es'], ['de'])).toEqual([{ src: 'en', tgt: 'es' }]);
  });

  it('treats an empty nmt_pairs as reported: no pairs, nothing derived', () => {
    const caps = capabilitiesFromReport({ capability_by_type: [], language_capabilities: { asr_languages: ['en'], semantic_languages: ['es'], nmt_pairs: [] } });
    expect(caps.nmtPairs).toEqual([]);
  });

  it('keeps the previous languages when a heartbeat carries no language_capabilities (§2.5)', () => {
    const first = capabilitiesFromReport(report);
    const next = capabilitiesFromReport({ installed_services: [], capability_by_type: [] }, first);
    expect(next.asrLanguages).toEqual(first.asrLanguages);
    expect(next.nmtPairs).toEqual(first.nmtPairs);
    // Only the languages come from the previous report: its services and readiness do not.
    expect(next.installedServices).toEqual([]);
    expect(next.capabilityByType).toEqual([]);
    expect(capabilitiesFromReport({ capability_by_type: [] }).asrLanguages).toEqual([]);
  });
});

describe('readiness of a service type (§4.3 rule 2)', () => {
  const caps = capabilitiesFromReport({
    installed_services: [{ service_id: 'mt', type: 'nmt', device: 'cpu', status: 'running' }],
    capability_by_type: [{ type: 'asr', ready: true }, { type: 'nmt', ready: false, reason: 'only_cpu_running' }],
  });

  it('follows capability_by_type', () => {
    expect(isTypeReady(caps, 'asr', false)).toBe(true);
    expect(isTypeReady(caps, 'nmt', false)).toBe(false);
    expect(isTypeReady(caps, 'tts', false)).toBe(false);
  });

  it('with allow_cpu_nodes, also counts a running service on any device', () => {
    expect(isTypeReady(caps, 'nmt', true)).toBe(true);
    expect(isTypeReady(caps, 'tts', true)).toBe(false);
  });
});
