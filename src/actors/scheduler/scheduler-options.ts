/**
 * The scheduler's configuration: one options object with unit-suffixed fields, merged over
 * `DEFAULT_SCHEDULER_CONFIG` and validated once (STYLE.md §8). Names follow PROTOCOL.md §0.5.
 */
import { z } from 'zod';
import { ServiceTypeSchema } from '../../protocol/common.schema.js';
import type { ServiceType } from '../../protocol/common.schema.js';
import { ConfigError } from '../../kernel/errors.js';
import { DispatchConfigShape } from './dispatch-options.js';
import type { DispatchConfig } from './dispatch-options.js';
import type { NodeStatusOptions } from '../../machines/node-status.machine.js';
import { DEFAULT_SCHEDULER_CONFIG } from './scheduler.defaults.js';

/** Node link, registry and store settings, plus sessions and dispatch (`DispatchConfig`). */
/** The node-status machine's rules (`health_check_count`, `failure_window`, …, `offline_retention_ms`) are its `NodeStatusOptions`. */
export interface SchedulerConfig extends DispatchConfig, NodeStatusOptions {
  /** Interface to listen on. Default `0.0.0.0`. */
  host: string;
  /** TCP port of HTTP and both WebSocket paths; 0 picks a free one (§1.1). Default 5010. */
  port: number;
  /** Shared secret of §1.2; unset = every upgrade is accepted. Never logged. */
  authToken: string | undefined;
  /** Accept and count as healthy nodes without a GPU (`allow_cpu_nodes`). Default false. */
  allowCpuNodes: boolean;
  /** `memory` or a `redis://…` / `rediss://…` URL of the capability store. */
  store: string;
  /** Largest text frame handled, in bytes; larger ones are answered as invalid (§1.3). Default 8 MiB. */
  maxFrameBytes: number;
  /** Period of WebSocket pings to each connection, in ms (`ws_ping_interval_ms`). */
  wsPingIntervalMs: number;
  /** A connection that produced no frame (pongs included) for this long is terminated, in ms (§1.3). */
  wsIdleTimeoutMs: number;
  /** Heartbeat period announced in `node_register_ack`, in ms (`heartbeat_interval_ms`). */
  heartbeatIntervalMs: number;
  /** `status_scan_interval_ms`: period of the backstop scan, in ms. */
  statusScanIntervalMs: number;
  /** `required_service_types`. */
  requiredServiceTypes: ServiceType[];
  /** Expiry of a node's store record, refreshed by every write, in ms (cleans up after a crashed instance). */
  storeTtlMs: number;
  /** Bound of the whole shutdown, in ms. */
  shutdownTimeoutMs: number;
  /** Fleet (Redis store): lease of this instance and of its session marks, renewed at a third of it, in ms. */
  instanceLeaseMs: number;
  /** Fleet: lease of a job slot, renewed at a third of it by its instance; a dead instance's slots lapse after it, in ms. */
  reservationLeaseMs: number;
  /** Fleet: period of the full resynchronization of the other instances' nodes, in ms. */
  fleetResyncMs: number;
}

export { DEFAULT_SCHEDULER_CONFIG };

const positiveMs = z.number().int().positive();

/** The fields of `SchedulerConfig` as zod types (the role configuration builds on it: src/cli/role-config.schema.ts). */
export const SchedulerConfigShape = {
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  authToken: z.string().min(1).optional(),
  allowCpuNodes: z.boolean(),
  store: z.string().refine((s) => s === 'memory' || /^rediss?:\/\//.test(s), 'must be "memory" or a redis:// URL'),
  maxFrameBytes: z.number().int().positive(),
  wsPingIntervalMs: positiveMs,
  wsIdleTimeoutMs: positiveMs,
  heartbeatIntervalMs: positiveMs,
  healthCheckCount: z.number().int().positive(),
  failureWindow: z.number().int().positive().max(31),
  failureCount: z.number().int().positive(),
  consecutiveFailures: z.number().int().positive(),
  warmupTimeoutMs: positiveMs,
  heartbeatTimeoutMs: positiveMs,
  statusScanIntervalMs: positiveMs,
  requiredServiceTypes: z.array(ServiceTypeSchema),
  offlineRetentionMs: positiveMs,
  storeTtlMs: positiveMs,
  shutdownTimeoutMs: positiveMs,
  instanceLeaseMs: z.number().int().min(300),
  reservationLeaseMs: z.number().int().min(300),
  fleetResyncMs: positiveMs,
  ...DispatchConfigShape,
};

const SchedulerConfigSchema = z
  .object(SchedulerConfigShape)
  .strict()
  .refine((c) => c.failureCount <= c.failureWindow, { message: 'failureCount cannot exceed failureWindow', path: ['failureCount'] })
  .refine((c) => c.storeTtlMs > Math.max(c.heartbeatTimeoutMs + c.statusScanIntervalMs, c.offlineRetentionMs), {
    message: 'storeTtlMs must outlast heartbeatTimeoutMs + statusScanIntervalMs and offlineRetentionMs, or live records would expire',
    path: ['storeTtlMs'],
  });

/** Merges `overrides` over the defaults and validates the result; throws INVALID_CONFIG. */
export function resolveSchedulerConfig(overrides: Partial<SchedulerConfig> = {}): SchedulerConfig {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const merged = { ...DEFAULT_SCHEDULER_CONFIG, requiredServiceTypes: [...DEFAULT_SCHEDULER_CONFIG.requiredServiceTypes], ...defined };
  const parsed = SchedulerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw new ConfigError(`invalid scheduler options: ${issues.join('; ')}`, { details: { issues } });
  }
  return { ...parsed.data, authToken: parsed.data.authToken };
}
