/**
 * What the scheduler counts, named for the scheduler's needs; the Prometheus adapter owns the
 * registry (one per scheduler instance) and the text format of `GET /metrics`.
 */
import type { NodeStatus } from '../../protocol/common.schema.js';
import type { PoolVariant } from './capability-store.port.js';

/**
 * `received`: every `node_heartbeat` frame; then exactly one of `accepted`, `stale` (§4.3, dropped
 * silently), `invalid` (schema, NOT_REGISTERED, NODE_ID_MISMATCH) or `ignored` (node offline).
 */
export type HeartbeatOutcome = 'received' | 'accepted' | 'stale' | 'invalid' | 'ignored';

/** Values the gauges read at each scrape. */
export interface SchedulerGauges {
  nodesByStatus: Record<NodeStatus, number>;
  /** Member count per pool key, per variant. */
  poolSizes: Record<PoolVariant, Record<string, number>>;
}

export interface SchedulerMetricsPort {
  heartbeat(outcome: HeartbeatOutcome): void;
  /** `code` is the rejection code (§11); absent for an accepted registration. */
  registration(outcome: 'accepted' | 'rejected', code?: string): void;
  statusTransition(from: NodeStatus | 'none', to: NodeStatus, reason: string): void;
  /** A write or read of the capability store failed. */
  storeError(): void;
  /** Where the gauges come from; read at every scrape. */
  setGaugeSource(source: () => SchedulerGauges): void;
  /** The Prometheus text exposition of this instance's registry. */
  render(): Promise<{ contentType: string; body: string }>;
}
