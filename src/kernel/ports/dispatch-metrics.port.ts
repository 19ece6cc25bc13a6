/**
 * What the scheduler counts about sessions and jobs (issue "Jobs end to end"), named for the
 * dispatcher's needs; the Prometheus adapter registers them beside the node metrics, so one
 * `GET /metrics` shows both.
 */

/** Why a job got another attempt (PROTOCOL.md §5.4). */
export type ReassignReason = 'job_timeout' | 'node_lost' | 'model_not_available' | 'node_overloaded' | 'send_failed';

/** Why a node message about a job was dropped (§5.5). */
export type DroppedReason = 'stale' | 'duplicate' | 'unknown_job';

/** Values the gauges read at each scrape. */
export interface DispatchGauges {
  /** Jobs waiting for a node (no candidate yet). */
  jobsQueued: number;
  /** Jobs whose current attempt runs on a node. */
  jobsInFlight: number;
  /** Sessions open (not closed), over every client connection. */
  sessionsOpen: number;
}

export interface DispatchMetricsPort {
  /** A `job_assign` went out (first dispatch or reassignment). */
  dispatched(): void;
  reassigned(reason: ReassignReason): void;
  /** A job ended without a result: its error code (§11). */
  failed(code: string): void;
  dropped(reason: DroppedReason): void;
  /** Finalize of an utterance → its `translation_result` sent, in ms. */
  latency(ms: number): void;
  /** Where the gauges come from; read at every scrape. */
  setGaugeSource(source: () => DispatchGauges): void;
}

/** Counts nothing: for tests and embedding hosts without metrics. */
export const NO_DISPATCH_METRICS: DispatchMetricsPort = {
  dispatched: () => undefined,
  reassigned: () => undefined,
  failed: () => undefined,
  dropped: () => undefined,
  latency: () => undefined,
  setGaugeSource: () => undefined,
};
