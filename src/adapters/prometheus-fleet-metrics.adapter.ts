/**
 * The fleet's gauges in Prometheus form, in the scheduler instance's registry: whether the shared
 * store answers, how many instances hold a lease, how many nodes other instances hold.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export interface FleetGauges {
  storeUp: boolean;
  instances: number;
  remoteNodes: number;
}

export function registerPrometheusFleetGauges(registry: Registry, source: () => FleetGauges): void {
  new Gauge({
    name: 'linguamesh_scheduler_fleet_store_up',
    help: '1 while the fleet\'s shared store (Redis) answers; 0 while cross-instance dispatch is refused (SCHEDULER_DEPENDENCY_DOWN).',
    registers: [registry],
    collect() {
      this.set(source().storeUp ? 1 : 0);
    },
  });
  new Gauge({
    name: 'linguamesh_scheduler_fleet_instances',
    help: 'Scheduler instances of the fleet with a live lease, this one included.',
    registers: [registry],
    collect() {
      this.set(source().instances);
    },
  });
  new Gauge({
    name: 'linguamesh_scheduler_fleet_remote_nodes',
    help: 'Nodes held by the other instances of the fleet, as this instance sees them.',
    registers: [registry],
    collect() {
      this.set(source().remoteNodes);
    },
  });
}
