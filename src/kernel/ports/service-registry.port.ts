/**
 * What the node knows about its local speech services, as the rest of the node reads it. The
 * services supervisor (hot-plug) keeps it; the heartbeat builds `installed_services`,
 * `capability_by_type` and `language_capabilities` from it (PROTOCOL.md §3.3); jobs pick services
 * from it. Changes are announced on the bus as `service.statusChanged`.
 */
import type { ServiceStatus } from '../../protocol/common.schema.js';
import type { ServiceLanguages } from '../../protocol/service-json.schema.js';
import type { ServiceLifecycleState } from '../bus-events.js';

export interface ServiceSnapshot {
  /** The service.json id. */
  id: string;
  /** service.json `type`: a ServiceType, or another kind (e.g. `lexicon`) that is never reported on the wire. */
  type: string;
  /** service.json `device` (`auto` and absent are reported as `gpu`, §3.3). */
  device: 'gpu' | 'cpu' | 'auto';
  version?: string;
  /** Directory the service runs from. */
  dir: string;
  state: ServiceLifecycleState;
  /** Cause of the last failure (crash, failed start, failed health checks, invalid service.json). */
  lastError?: string;
  /** `false`: never started automatically (operator's choice, persisted). */
  enabled: boolean;
  /** Effective languages: the ready health answer's `languages` when it had one (§9.7 [ext]), else the declared ones. */
  languages: ServiceLanguages;
  /** `http://127.0.0.1:<port>` while starting or running. */
  baseUrl?: string;
  /** `/tts` or `/synthesize` (§9.4). */
  ttsEndpoint: '/tts' | '/synthesize';
  /** Start-up bound from service.json, in ms (also bounds an on-demand start). */
  startupTimeoutMs: number;
  /** Time from spawn to the first passing health check of the current run, in ms. */
  warmupMs?: number;
  /** Resident memory of the process, in MiB, when sampled. */
  memMb?: number;
  pid?: number;
}

/** The wire status of a lifecycle state (PROTOCOL.md §3.3: `running` only once healthy). */
export function wireStatusOf(state: ServiceLifecycleState): ServiceStatus {
  switch (state) {
    case 'running':
      return 'running';
    case 'failed':
    case 'backoff':
    case 'error':
      return 'error';
    case 'stopped':
    case 'starting':
    case 'stopping':
      return 'stopped';
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** Read side: the current services, in discovery order. */
export interface ServiceRegistryPort {
  list(): readonly ServiceSnapshot[];
  get(id: string): ServiceSnapshot | undefined;
}

/** Control side (hot-plug API, on-demand start). Every method rejects only with KernelErrors. */
export interface ServiceControlPort {
  start(id: string, signal: AbortSignal): Promise<ServiceSnapshot>;
  stop(id: string, signal: AbortSignal): Promise<ServiceSnapshot>;
  restart(id: string, signal: AbortSignal): Promise<ServiceSnapshot>;
  /** Persisted: an enabled service starts at node boot. */
  setEnabled(id: string, enabled: boolean, signal: AbortSignal): Promise<ServiceSnapshot>;
  /**
   * Starts an installed, enabled, stopped service and resolves once it is `running`, at most its
   * `startupTimeoutMs` (PROTOCOL.md §8.4 on-demand start). Resolves at once when it already runs.
   */
  ensureRunning(id: string, signal: AbortSignal): Promise<ServiceSnapshot>;
}
