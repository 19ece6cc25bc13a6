/**
 * The dispatcher's and sessions' metrics in Prometheus form, registered into the scheduler
 * instance's own registry (the one `createPrometheusSchedulerMetrics` made), so `GET /metrics`
 * serves them with the node metrics.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { DispatchGauges, DispatchMetricsPort } from '../kernel/ports/dispatch-metrics.port.js';

/** Seconds: from 10 ms (instant services) to 30 s (a long utterance on a slow node). */
const LATENCY_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30];

export function createPrometheusDispatchMetrics(registry: Registry): DispatchMetricsPort {
  let source: (() => DispatchGauges) | undefined;
  let snapshot: DispatchGauges | undefined;
  // The three gauges read one snapshot per scrape: the first one collected takes it.
  const read = (fresh: boolean): DispatchGauges | undefined => {
    if (fresh || !snapshot) snapshot = source?.();
    return snapshot;
  };
  new Gauge({
    name: 'linguamesh_scheduler_jobs_queued',
    help: 'Jobs waiting for a node (no eligible node with a free slot yet).',
    registers: [registry],
    collect() {
      this.set(read(true)?.jobsQueued ?? 0);
    },
  });
  new Gauge({
    name: 'linguamesh_scheduler_jobs_in_flight',
    help: 'Jobs whose current attempt is assigned to a node.',
    registers: [registry],
    collect() {
      this.set(read(false)?.jobsInFlight ?? 0);
    },
  });
  new Gauge({
    name: 'linguamesh_scheduler_sessions_open',
    help: 'Client sessions open on this scheduler instance.',
    registers: [registry],
    collect() {
      this.set(read(false)?.sessionsOpen ?? 0);
    },
  });
  const dispatched = new Counter({ name: 'linguamesh_scheduler_jobs_dispatched_total', help: 'job_assign messages sent (first attempts and reassignments).', registers: [registry] });
  const reassigned = new Counter({ name: 'linguamesh_scheduler_jobs_reassigned_total', help: 'Jobs given another attempt, by reason.', labelNames: ['reason'], registers: [registry] });
  const failed = new Counter({ name: 'linguamesh_scheduler_jobs_failed_total', help: 'Jobs that ended without a result, by error code.', labelNames: ['code'], registers: [registry] });
  const dropped = new Counter({ name: 'linguamesh_scheduler_job_messages_dropped_total', help: 'Node job messages dropped: stale attempt, duplicate result, unknown job.', labelNames: ['reason'], registers: [registry] });
  const latency = new Histogram({
    name: 'linguamesh_scheduler_job_latency_seconds',
    help: 'End of an utterance (finalize) to its translation_result sent to the client.',
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  return {
    dispatched: () => dispatched.inc(),
    reassigned: (reason) => reassigned.labels(reason).inc(),
    failed: (code) => failed.labels(code).inc(),
    dropped: (reason) => dropped.labels(reason).inc(),
    latency: (ms) => latency.observe(ms / 1000),
    setGaugeSource: (next) => {
      source = next;
    },
  };
}
