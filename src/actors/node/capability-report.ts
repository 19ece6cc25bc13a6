/**
 * The node's capability report (PROTOCOL.md §3.3), built from the service registry's snapshots:
 * `installed_services`, `capability_by_type` and `language_capabilities`. Pure: the same snapshots
 * and settings always give the same report, with every list normalized and sorted.
 */
import type { ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import { wireStatusOf } from '../../kernel/ports/service-registry.port.js';
import { isServiceType, SERVICE_TYPES } from '../../protocol/common.schema.js';
import type { ServiceType } from '../../protocol/common.schema.js';
import { normalizeLanguageSet, normalizePairs } from '../../protocol/language.js';
import type { LanguagePair } from '../../protocol/language.js';
import type { CapabilityByType, InstalledService, LanguageCapabilities } from '../../protocol/node-capabilities.schema.js';

export interface CapabilityReportSettings {
  /** `allow_cpu_services` (§3.3): a running CPU service makes its type ready. */
  allowCpuServices: boolean;
}

export interface CapabilityReport {
  installed_services: InstalledService[];
  capability_by_type: CapabilityByType[];
  language_capabilities: LanguageCapabilities;
}

/** The wire item of one service, or undefined for kinds that are never reported (e.g. `lexicon`, §3.3). */
export function installedServiceOf(service: ServiceSnapshot): InstalledService | undefined {
  if (!isServiceType(service.type)) return undefined;
  const status = wireStatusOf(service.state);
  return {
    service_id: service.id,
    type: service.type,
    // §3.3: `cpu` only when service.json says so; `auto` and absent run on the GPU.
    device: service.device === 'cpu' ? 'cpu' : 'gpu',
    status,
    ...(service.version !== undefined ? { version: service.version } : {}),
    ...(service.memMb !== undefined ? { mem_mb: Math.max(0, Math.round(service.memMb)) } : {}),
    ...(service.warmupMs !== undefined ? { warmup_ms: Math.max(0, Math.round(service.warmupMs)) } : {}),
    ...(status === 'error' && service.lastError !== undefined ? { last_error: service.lastError } : {}),
  };
}

/**
 * One entry per ServiceType with at least one installed service (§3.3). Not ready: no service runs
 * (`no_running_impl`); only CPU services run while a GPU one is installed but not running
 * (`gpu_impl_not_running`); only CPU services run and none is for the GPU (`only_cpu_running`).
 */
export function capabilityByTypeOf(services: readonly InstalledService[], settings: CapabilityReportSettings): CapabilityByType[] {
  const out: CapabilityByType[] = [];
  for (const type of SERVICE_TYPES) {
    const ofType = services.filter((s) => s.type === type);
    if (ofType.length === 0) continue;
    const running = ofType.filter((s) => s.status === 'running');
    const ready = running.some((s) => s.device === 'gpu' || settings.allowCpuServices);
    if (ready) {
      out.push({ type, ready: true, ready_impl_ids: running.map((s) => s.service_id) });
    } else if (running.length === 0) {
      out.push({ type, ready: false, reason: 'no_running_impl' });
    } else {
      out.push({ type, ready: false, reason: ofType.some((s) => s.device === 'gpu') ? 'gpu_impl_not_running' : 'only_cpu_running' });
    }
  }
  return out;
}

/**
 * Languages per service type, from running services only (§3.3 [fix]): ASR and TTS languages,
 * NMT pairs, and the semantic languages — those of running `semantic` services, or, when none
 * runs, the targets the node can fully serve (NMT target that TTS speaks), for Lingua schedulers.
 */
export function languageCapabilitiesOf(services: readonly ServiceSnapshot[]): LanguageCapabilities {
  const running = services.filter((s) => isServiceType(s.type) && s.state === 'running');
  const ofType = (type: ServiceType) => running.filter((s) => s.type === type);
  const asr = normalizeLanguageSet(ofType('asr').flatMap((s) => s.languages.asr));
  const tts = normalizeLanguageSet(ofType('tts').flatMap((s) => s.languages.tts));
  const nmtPairs: LanguagePair[] = normalizePairs(ofType('nmt').flatMap((s) => s.languages.nmtPairs));
  const semanticServices = ofType('semantic');
  const semantic =
    semanticServices.length > 0
      ? normalizeLanguageSet(semanticServices.flatMap((s) => s.languages.semantic))
      : normalizeLanguageSet(nmtPairs.map((p) => p.tgt).filter((tgt) => tts.includes(tgt)));
  return {
    asr_languages: asr,
    tts_languages: tts,
    semantic_languages: semantic,
    semantic_core_ready: semantic.length > 0,
    nmt_pairs: nmtPairs,
  };
}

export function buildCapabilityReport(services: readonly ServiceSnapshot[], settings: CapabilityReportSettings): CapabilityReport {
  const installed = services.map(installedServiceOf).filter((s): s is InstalledService => s !== undefined);
  return {
    installed_services: installed,
    capability_by_type: capabilityByTypeOf(installed, settings),
    language_capabilities: languageCapabilitiesOf(services),
  };
}
