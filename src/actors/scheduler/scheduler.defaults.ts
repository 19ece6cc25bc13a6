/**
 * The scheduler's defaults (`SchedulerConfig`, src/actors/scheduler/scheduler-options.ts), without
 * zod: the CLI shows some of them in its flags' help.
 */
import type { ServiceType } from '../../protocol/common.schema.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../protocol/frame-limits.js';
import { DEFAULT_DISPATCH_CONFIG } from './dispatch.defaults.js';
import type { SchedulerConfig } from './scheduler-options.js';

export const DEFAULT_SCHEDULER_CONFIG = {
  host: '0.0.0.0',
  port: 5010,
  authToken: undefined,
  allowCpuNodes: false,
  store: 'memory',
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  wsPingIntervalMs: 15_000,
  wsIdleTimeoutMs: 45_000,
  heartbeatIntervalMs: 15_000,
  healthCheckCount: 3,
  failureWindow: 5,
  failureCount: 3,
  consecutiveFailures: 3,
  warmupTimeoutMs: 60_000,
  heartbeatTimeoutMs: 45_000,
  statusScanIntervalMs: 30_000,
  requiredServiceTypes: ['asr', 'nmt', 'tts'],
  offlineRetentionMs: 60_000,
  storeTtlMs: 180_000,
  shutdownTimeoutMs: 10_000,
  instanceLeaseMs: 6_000,
  reservationLeaseMs: 30_000,
  fleetResyncMs: 30_000,
  ...DEFAULT_DISPATCH_CONFIG,
} as const satisfies Readonly<Omit<SchedulerConfig, 'requiredServiceTypes'> & { requiredServiceTypes: readonly ServiceType[] }>;
