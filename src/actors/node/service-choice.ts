/**
 * Which local service a job stage calls (PROTOCOL.md §8.4): a running service of the stage's type
 * that supports the job's languages, least in flight first; when none is left, an installed,
 * enabled, stopped one to start on demand; otherwise why none is available (§8.3 details). Pure:
 * it reads registry snapshots and the node's in-flight counts.
 */
import type { ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import type { UnavailableDetails } from '../../machines/job-messages.js';
import type { ChosenService, ServiceChoice } from '../../machines/job.machine.js';
import type { ServiceNeed } from '../../machines/job-plan.js';
import { AUTO_LANGUAGE } from '../../protocol/language.js';

/** Calls in flight per service id, over all jobs of this node. */
export type InFlightCount = (serviceId: string) => number;

/** Whether `service` is of the need's type and supports its languages. */
export function supports(service: ServiceSnapshot, need: ServiceNeed): boolean {
  if (service.type !== need.stage) return false;
  const { languages } = service;
  switch (need.stage) {
    case 'asr':
      if (need.lang !== AUTO_LANGUAGE) return languages.asr.includes(need.lang);
      return need.anyOf.length === 0 || need.anyOf.some((lang) => languages.asr.includes(lang));
    case 'nmt':
      return languages.nmtPairs.some((pair) => pair.src === need.src && pair.tgt === need.tgt);
    case 'tts':
      return languages.tts.includes(need.lang);
    default: {
      const never: never = need;
      return never;
    }
  }
}

const isRunning = (s: ServiceSnapshot) => s.state === 'running' && s.baseUrl !== undefined;
/** Startable on demand (§8.2 check 5, §8.4): enabled and stopped, or already on its way up. */
const isStartable = (s: ServiceSnapshot) => s.enabled && (s.state === 'stopped' || s.state === 'starting');

/** The call target of a running service, with the voices of the need's language (§9.4). */
export function chosenServiceOf(service: ServiceSnapshot, need: ServiceNeed): ChosenService | undefined {
  if (service.baseUrl === undefined) return undefined;
  return {
    ref: { id: service.id, baseUrl: service.baseUrl, ttsEndpoint: service.ttsEndpoint, ...(service.version !== undefined ? { version: service.version } : {}) },
    ...(service.version !== undefined ? { version: service.version } : {}),
    voices: need.stage === 'tts' ? (service.languages.voices[need.lang] ?? []) : [],
    startupTimeoutMs: service.startupTimeoutMs,
  };
}

/**
 * Why no service can serve `need` (§8.3): `not_installed` with the type as `service_id` when no
 * installed service supports it; else the first such service, `error` when it failed, `not_running`
 * otherwise (disabled, stopping).
 */
export function unavailableOf(services: readonly ServiceSnapshot[], need: ServiceNeed): UnavailableDetails {
  const eligible = services.filter((s) => supports(s, need));
  const failed = eligible.find((s) => s.state === 'error' || s.state === 'failed' || s.state === 'backoff');
  const first = failed ?? eligible[0];
  if (!first) return { service_id: need.stage, reason: 'not_installed' };
  return { service_id: first.id, reason: failed ? 'error' : 'not_running', ...(first.version !== undefined ? { service_version: first.version } : {}) };
}

/** §8.2 check 5: undefined when some service is running or startable for `need`, else why not. */
export function availabilityProblem(services: readonly ServiceSnapshot[], need: ServiceNeed): UnavailableDetails | undefined {
  return services.some((s) => supports(s, need) && (isRunning(s) || isStartable(s))) ? undefined : unavailableOf(services, need);
}

/**
 * The next service to try for `need`, skipping `exclude` (those that already failed in this stage):
 * the running one with the fewest calls in flight (ties: registry order), else the first startable
 * one, else `none` with the reason.
 */
export function chooseService(services: readonly ServiceSnapshot[], need: ServiceNeed, exclude: readonly string[], inFlight: InFlightCount): ServiceChoice {
  const candidates = services.filter((s) => supports(s, need) && !exclude.includes(s.id));
  let best: { service: ChosenService; load: number } | undefined;
  for (const snapshot of candidates.filter(isRunning)) {
    const service = chosenServiceOf(snapshot, need);
    const load = inFlight(snapshot.id);
    if (service && (!best || load < best.load)) best = { service, load };
  }
  if (best) return { kind: 'running', service: best.service };
  const startable = candidates.find(isStartable);
  if (startable) return { kind: 'startable', serviceId: startable.id, startupTimeoutMs: startable.startupTimeoutMs };
  return { kind: 'none', unavailable: unavailableOf(services, need) };
}
