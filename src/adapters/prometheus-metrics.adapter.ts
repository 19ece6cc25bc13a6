/**
 * The scheduler's metrics in Prometheus form, in a registry of its own (never prom-client's global
 * one), so that several schedulers in one process, and tests, do not share counters.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { HeartbeatOutcome, SchedulerGauges, SchedulerMetricsPort } from '../kernel/ports/scheduler-metrics.port.js';
import { NODE_STATUSES } from '../protocol/index.js';
import type { NodeStatus } from '../protocol/index.js';

const HEARTBEAT_OUTCOMES: readonly HeartbeatOutcome[] = ['received', 'accepted', 'stale', 'invalid', 'ignored'];

export function createPrometheusSchedulerMetrics(): SchedulerMetricsPort & { registry: Registry } {
  const registry = new Registry();
  let source: (() => SchedulerGauges) | undefined;
  let gauges: SchedulerGauges | undefined;
  // Both gauges read one snapshot per scrape: the node-status gauge (collected first) takes it.
  const snapshot = (fresh: boolean): SchedulerGauges | undefined => {
    if (fresh || !gauges) gauges = source?.();
    return gauges;
  };

  // Heartbeats are counted at their rate (thousands a second): plain integers on the hot path, moved
  // into the counter at each scrape.
  const heartbeatTally = Object.fromEntries(HEARTBEAT_OUTCOMES.map((o) => [o, 0])) as Record<HeartbeatOutcome, number>;
  new Counter({
    name: 'linguamesh_scheduler_heartbeats_total',
    help: 'Node heartbeats by outcome: every received one, then accepted, stale (dropped), invalid or ignored (node offline).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const outcome of HEARTBEAT_OUTCOMES) {
        this.labels(outcome).inc(heartbeatTally[outcome]);
        heartbeatTally[outcome] = 0;
      }
    },
  });
  const registrations = new Counter({ name: 'linguamesh_scheduler_registrations_total', help: 'Node registrations, accepted or rejected, by rejection code.', labelNames: ['outcome', 'code'], registers: [registry] });
  registrations.labels('accepted', '').inc(0);
  const transitions = new Counter({ name: 'linguamesh_scheduler_status_transitions_total', help: 'Node status transitions.', labelNames: ['from', 'to', 'reason'], registers: [registry] });
  const storeErrors = new Counter({ name: 'linguamesh_scheduler_store_errors_total', help: 'Failed capability store calls.', registers: [registry] });
  new Gauge({
    name: 'linguamesh_scheduler_nodes',
    help: 'Nodes held by this scheduler instance, by status.',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts = snapshot(true)?.nodesByStatus;
      for (const status of NODE_STATUSES) this.labels(status).set(counts?.[status as NodeStatus] ?? 0);
    },
  });
  new Gauge({
    name: 'linguamesh_scheduler_pool_size',
    help: 'Members of each language-pair pool, for speech (use_tts true) and text (use_tts false) jobs.',
    labelNames: ['pool', 'pipeline'],
    registers: [registry],
    collect() {
      this.reset();
      const sizes = snapshot(false)?.poolSizes;
      if (!sizes) return;
      for (const [pipeline, pools] of Object.entries(sizes)) for (const [pool, size] of Object.entries(pools)) this.labels(pool, pipeline).set(size);
    },
  });

  return {
    registry,
    heartbeat: (outcome) => {
      heartbeatTally[outcome]++;
    },
    registration: (outcome, code) => registrations.labels(outcome, code ?? '').inc(),
    statusTransition: (from, to, reason) => transitions.labels(from, to, reason).inc(),
    storeError: () => storeErrors.inc(),
    setGaugeSource: (next) => {
      source = next;
    },
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  };
}
