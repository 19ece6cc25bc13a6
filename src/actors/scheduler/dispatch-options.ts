/**
 * Settings of sessions and dispatch (PROTOCOL.md §0.5, §5.4–§5.6, §6.4, §6.6), in camelCase with
 * their units. They are part of the scheduler's options (`SchedulerConfig` extends this), merged
 * over these defaults and validated with the rest.
 */
import { z } from 'zod';

export interface DispatchConfig {
  /** No accepted `job_result` this long after an attempt's dispatch: cancel and reassign, in ms (`job_timeout_ms`). */
  jobTimeoutMs: number;
  /** Reassignments per job at most; one more needed fails it with JOB_TIMEOUT (`max_reassignments`). */
  maxReassignments: number;
  /** A job waiting this long for a node fails with NO_AVAILABLE_NODE, in ms (`no_node_timeout_ms`). */
  noNodeTimeoutMs: number;
  /** Waiting jobs are retried at least this often, besides every pool change and freed slot, in ms. */
  noNodeRetryMs: number;
  /** How long a complete result may still follow an empty one of the same attempt, in ms (`result_dedupe_ms`). */
  resultDedupeMs: number;
  /** Grace of a gap in a session's results or utterances, in ms (`result_gap_grace_ms`). */
  resultGapGraceMs: number;
  /** Held results per session beyond which the gap below them is declared missing (`max_pending_results`). */
  maxPendingResults: number;
  /** Silence that finalizes an utterance, in ms (`pause_ms`). */
  pauseMs: number;
  /** Buffered audio that finalizes an utterance, in ms (`max_duration_ms`). */
  maxDurationMs: number;
  /** Buffered bytes beyond which an utterance is finalized, in bytes (`max_buffer_bytes`). */
  maxBufferBytes: number;
  /** `padding_ms` of a manual cut, in ms (`padding_manual_ms`). */
  paddingManualMs: number;
  /** `padding_ms` of a pause or duration cut, in ms (`padding_auto_ms`). */
  paddingAutoMs: number;
  /** A session without client messages and jobs this long is closed, in ms (`session_idle_timeout_ms`). */
  sessionIdleTimeoutMs: number;
  /** Closed session ids remembered per client connection, to answer SESSION_CLOSED rather than INVALID_SESSION. */
  maxClosedSessionsPerConnection: number;
}

export { DEFAULT_DISPATCH_CONFIG } from './dispatch.defaults.js';

const positiveMs = z.number().int().positive();

/** The zod shape of `DispatchConfig`, spread into the scheduler's options schema. */
export const DispatchConfigShape = {
  jobTimeoutMs: positiveMs,
  maxReassignments: z.number().int().nonnegative(),
  noNodeTimeoutMs: positiveMs,
  noNodeRetryMs: positiveMs,
  resultDedupeMs: positiveMs,
  resultGapGraceMs: positiveMs,
  maxPendingResults: z.number().int().positive(),
  pauseMs: positiveMs,
  maxDurationMs: positiveMs,
  maxBufferBytes: z.number().int().positive(),
  paddingManualMs: z.number().int().nonnegative(),
  paddingAutoMs: z.number().int().nonnegative(),
  sessionIdleTimeoutMs: positiveMs,
  maxClosedSessionsPerConnection: z.number().int().nonnegative(),
};
