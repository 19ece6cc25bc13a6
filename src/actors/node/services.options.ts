/**
 * Options of the node's services supervisor (hot-plug): where services are found, port overrides,
 * and the supervision policy every service gets unless its own entry says otherwise.
 */
import { z } from 'zod';
import { ConfigError } from '../../kernel/errors.js';
import type { ServiceLifecyclePolicy } from '../../machines/service-lifecycle.machine.js';
import type { ServiceManifest } from '../../protocol/service-json.schema.js';

/** The part of the lifecycle policy that is not in service.json. */
export interface ServiceSupervisionOptions {
  /** Health probe period of a running service, in ms (PROTOCOL.md §9.1: at most 30 000). */
  probeIntervalMs: number;
  /** Failed probes in a row that make a running service failed and get it killed (§9.1: 3). */
  probeFailureLimit: number;
  /** Time a service gets between SIGTERM and SIGKILL, in ms. */
  stopTimeoutMs: number;
  /** Automatic restarts allowed within `withinMs` before the service stays in `error`. */
  maxRestarts: number;
  /** Sliding window of the restart intensity, in ms. */
  withinMs: number;
  /** Delay before the first automatic restart, in ms; doubles per restart inside the window. */
  minBackoffMs: number;
  /** Cap of the restart delay, in ms. */
  maxBackoffMs: number;
}

export interface ServicesOptions extends ServiceSupervisionOptions {
  /** The node's data directory; installed services live in `<dataDir>/services/`. */
  dataDir: string;
  /** Extra service directories, each with a service.json (development). */
  extraServiceDirs: string[];
  /** Operator's port per service id; wins over service.json `port` (§9.8). */
  portOverrides: Record<string, number>;
  /** Per service id: any lifecycle policy field, including the service.json ones (`startupTimeoutMs`, …). */
  perService: Record<string, Partial<ServiceLifecyclePolicy>>;
  /** Longest service output line logged, in characters; longer lines are cut. */
  maxLineChars: number;
  /** Bound of the whole services shutdown at node stop, in ms (services stop one by one, in reverse start order). */
  shutdownTimeoutMs: number;
  /**
   * Time the old version of a service keeps running after a switch with no gap has pointed the
   * registry at the new one, in ms: callers that read the old address just before still reach it.
   */
  switchDrainMs: number;
}

export const DEFAULT_SERVICES_OPTIONS = {
  extraServiceDirs: [],
  portOverrides: {},
  perService: {},
  probeIntervalMs: 10_000,
  probeFailureLimit: 3,
  stopTimeoutMs: 5_000,
  maxRestarts: 5,
  withinMs: 300_000,
  minBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  maxLineChars: 8_192,
  shutdownTimeoutMs: 60_000,
  switchDrainMs: 1_000,
} satisfies Omit<ServicesOptions, 'dataDir'>;

const Ms = z.number().int().nonnegative();
const Count = z.number().int().nonnegative();
const PolicySchema = z.object({
  startupTimeoutMs: Ms.min(1),
  healthIntervalMs: Ms.min(1),
  healthTimeoutMs: Ms.min(1),
  probeIntervalMs: Ms.min(1).max(30_000),
  probeFailureLimit: Count.min(1),
  stopTimeoutMs: Ms,
  maxRestarts: Count,
  withinMs: Ms.min(1),
  minBackoffMs: Ms,
  maxBackoffMs: Ms,
});

const ServicesOptionsSchema = PolicySchema.pick({ probeIntervalMs: true, probeFailureLimit: true, stopTimeoutMs: true, maxRestarts: true, withinMs: true, minBackoffMs: true, maxBackoffMs: true }).extend({
  dataDir: z.string().min(1),
  extraServiceDirs: z.array(z.string().min(1)),
  portOverrides: z.record(z.string(), z.number().int().min(1).max(65_535)),
  perService: z.record(z.string(), PolicySchema.partial()),
  maxLineChars: Count.min(80),
  shutdownTimeoutMs: Ms.min(1),
  switchDrainMs: Ms,
});

/** Merges `options` over the defaults and validates them once; rejects with `INVALID_CONFIG`. */
export function resolveServicesOptions(options: Partial<ServicesOptions> & { dataDir: string }): ServicesOptions {
  const merged = { ...DEFAULT_SERVICES_OPTIONS, ...options };
  const parsed = ServicesOptionsSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`invalid services options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Shortest health polling period, in ms: a service.json `interval_ms` of 0 must not spin. */
const MIN_HEALTH_INTERVAL_MS = 5;

/** The lifecycle policy of one service: service.json timings, the node's defaults, then its own overrides. */
export function policyFor(manifest: ServiceManifest, options: ServicesOptions): ServiceLifecyclePolicy {
  return {
    startupTimeoutMs: manifest.startupTimeoutMs,
    healthIntervalMs: Math.max(MIN_HEALTH_INTERVAL_MS, manifest.healthCheck.intervalMs),
    healthTimeoutMs: Math.max(1, manifest.healthCheck.timeoutMs),
    probeIntervalMs: options.probeIntervalMs,
    probeFailureLimit: options.probeFailureLimit,
    stopTimeoutMs: options.stopTimeoutMs,
    maxRestarts: options.maxRestarts,
    withinMs: options.withinMs,
    minBackoffMs: options.minBackoffMs,
    maxBackoffMs: options.maxBackoffMs,
    ...options.perService[manifest.id],
  };
}
