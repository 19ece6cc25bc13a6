/**
 * The defaults of sessions and dispatch (`DispatchConfig`, src/actors/scheduler/dispatch-options.ts),
 * without zod: the CLI reads them when it defines its flags.
 */
import type { DispatchConfig } from './dispatch-options.js';

export const DEFAULT_DISPATCH_CONFIG = {
  jobTimeoutMs: 60_000,
  maxReassignments: 3,
  noNodeTimeoutMs: 10_000,
  noNodeRetryMs: 1_000,
  resultDedupeMs: 30_000,
  resultGapGraceMs: 30_000,
  maxPendingResults: 200,
  pauseMs: 3_000,
  maxDurationMs: 10_000,
  maxBufferBytes: 512_000,
  paddingManualMs: 280,
  paddingAutoMs: 220,
  sessionIdleTimeoutMs: 300_000,
  maxClosedSessionsPerConnection: 64,
} as const satisfies DispatchConfig;
