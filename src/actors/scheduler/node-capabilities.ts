/**
 * A node's capability report (from `node_register` or `node_heartbeat`) as normalized sets
 * (PROTOCOL.md §5.1): languages normalized and sorted, lists sorted, so that a reordered report is
 * no change. Readiness of a service type follows §4.3 rule 2.
 */
import type { ServiceType } from '../../protocol/common.schema.js';
import { normalizeLanguageSet, normalizePairs } from '../../protocol/language.js';
import type { LanguagePair } from '../../protocol/language.js';
import type { CapabilityByType, InstalledService, LanguageCapabilities } from '../../protocol/node-capabilities.schema.js';
import type { NodeCapabilities } from '../../kernel/ports/capability-store.port.js';
import { samePlainData } from './plain-data.js';

export interface CapabilityReport {
  installed_services?: InstalledService[] | undefined;
  capability_by_type: CapabilityByType[];
  /** Absent in a heartbeat: unchanged since the last report that carried it (§2.5). */
  language_capabilities?: LanguageCapabilities | undefined;
}

/** Languages of a report, kept to fill in a later heartbeat without `language_capabilities`. */
export type ReportedLanguages = Pick<NodeCapabilities, 'asrLanguages' | 'ttsLanguages' | 'semanticLanguages' | 'nmtPairs' | 'nmtPairsReported'>;

const NO_LANGUAGES: ReportedLanguages = { asrLanguages: [], ttsLanguages: [], semanticLanguages: [], nmtPairs: [], nmtPairsReported: false };

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * §5.1: a node that sends no `nmt_pairs` (a Lingua node) translates every (a, b), a ≠ b, with a an
 * ASR language and b a semantic language (TTS languages when it has no semantic ones).
 */
export function derivedNmtPairs(asr: readonly string[], semantic: readonly string[], tts: readonly string[]): LanguagePair[] {
  const targets = semantic.length > 0 ? semantic : tts;
  const pairs: LanguagePair[] = [];
  for (const src of asr) for (const tgt of targets) if (src !== tgt) pairs.push({ src, tgt });
  return normalizePairs(pairs);
}

/**
 * The input itself when normalizing did not change it: a node that reports normalized, sorted
 * lists (as linguamesh nodes do) then shares its report's arrays with its capabilities.
 */
function preferInput<T>(input: T[] | undefined, normalized: T[]): T[] {
  return input !== undefined && samePlainData(input, normalized) ? input : normalized;
}

function languagesOf(report: LanguageCapabilities): ReportedLanguages {
  const asrLanguages = preferInput(report.asr_languages, normalizeLanguageSet(report.asr_languages ?? []));
  const ttsLanguages = preferInput(report.tts_languages, normalizeLanguageSet(report.tts_languages ?? []));
  const semanticLanguages = preferInput(report.semantic_languages, normalizeLanguageSet(report.semantic_languages ?? []));
  const nmtPairsReported = report.nmt_pairs !== undefined;
  const nmtPairs = nmtPairsReported ? preferInput(report.nmt_pairs, normalizePairs(report.nmt_pairs ?? [])) : derivedNmtPairs(asrLanguages, semanticLanguages, ttsLanguages);
  return { asrLanguages, ttsLanguages, semanticLanguages, nmtPairs, nmtPairsReported };
}

/** Normalizes a report; `previous` supplies the languages when the report carries none. */
export function capabilitiesFromReport(report: CapabilityReport, previous?: ReportedLanguages): NodeCapabilities {
  const services = report.installed_services ?? [];
  const installedServices = preferInput(
    services,
    [...services].sort((a, b) => compareStrings(a.service_id, b.service_id) || compareStrings(a.type, b.type) || compareStrings(a.device, b.device)),
  );
  const capabilityByType = preferInput(
    report.capability_by_type,
    report.capability_by_type
      .map((c) => (c.ready_impl_ids ? { ...c, ready_impl_ids: [...c.ready_impl_ids].sort() } : c))
      .sort((a, b) => compareStrings(a.type, b.type) || Number(b.ready) - Number(a.ready)),
  );
  const languages = report.language_capabilities ? languagesOf(report.language_capabilities) : (previous ?? NO_LANGUAGES);
  // Field by field: `previous` may be a whole NodeCapabilities, whose services must not come back.
  const { asrLanguages, ttsLanguages, semanticLanguages, nmtPairs, nmtPairsReported } = languages;
  return { installedServices, capabilityByType, asrLanguages, ttsLanguages, semanticLanguages, nmtPairs, nmtPairsReported };
}

/** Whether two normalized capability sets are the same (§5.1: a reordered report is no change). */
export function sameCapabilities(a: NodeCapabilities, b: NodeCapabilities): boolean {
  return samePlainData(a, b);
}

/**
 * §4.3 rule 2: a type is ready when `capability_by_type` says so; with `allow_cpu_nodes`, also when
 * a service of that type runs on any device.
 */
export function isTypeReady(caps: NodeCapabilities, type: ServiceType, allowCpuNodes: boolean): boolean {
  if (caps.capabilityByType.some((c) => c.type === type && c.ready)) return true;
  return allowCpuNodes && caps.installedServices.some((s) => s.type === type && s.status === 'running');
}
