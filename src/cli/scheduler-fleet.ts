/**
 * The fleet plane of a scheduler whose store is Redis (issue "Scheduler scale-out"): this instance
 * joins the fleet (lease, inbox), shares job slots with every instance (Redis reservations), sees
 * the nodes the others hold (`FleetView`), and routes job messages between instances
 * (`FleetRouter`). Composed by `startScheduler`:
 *
 *   scheduler (root)
 *   ├─ registry, scan, dispatcher, sessions …
 *   ├─ fleet   (instance list refresh, periodic resync)
 *   └─ server
 *
 * `GET /api/v1/instances` lists the live instances; `/health` and `/metrics` say when the shared
 * store is unreachable (then each instance serves what it holds, and a job that would need another
 * instance is refused with SCHEDULER_DEPENDENCY_DOWN).
 */
import type { Registry } from 'prom-client';
import { createRedisFleet } from '../adapters/fleet-redis.adapter.js';
import { registerPrometheusFleetGauges } from '../adapters/prometheus-fleet-metrics.adapter.js';
import { createRedisReservations } from '../adapters/reservations-redis.adapter.js';
import type { Dispatcher } from '../actors/scheduler/dispatcher.js';
import { fleetChildSpec } from '../actors/scheduler/fleet.actor.js';
import { FleetRouter } from '../actors/scheduler/fleet-router.js';
import { FleetView } from '../actors/scheduler/fleet-view.js';
import type { NodeRegistry } from '../actors/scheduler/node-registry.js';
import type { SchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';
import type { HttpRoute } from '../kernel/ports/http.port.js';
import type { ReservationsPort } from '../kernel/ports/reservations.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';

export interface FleetPlaneOptions {
  /** The Redis URL of the fleet. */
  url: string;
  instanceId: string;
  config: SchedulerConfig;
  registry: NodeRegistry;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  metricsRegistry: Registry;
  signal: AbortSignal;
}

export interface FleetPlane {
  readonly reservations: ReservationsPort;
  /** The dispatcher's registry: this instance's nodes and the others'. */
  readonly router: FleetRouter;
  readonly view: FleetView;
  readonly children: ChildSpecInput[];
  readonly routes: HttpRoute[];
  /** What is degraded now, for `/health`; undefined when nothing is. */
  degraded(): string | undefined;
  /** Hands the dispatcher to the router and takes over the registry's job messages. */
  attach(dispatcher: Dispatcher): void;
  /** Joins the fleet and reads every node the others hold. Rejects STORE_UNAVAILABLE. */
  start(address: string): Promise<void>;
  /** Leaves the fleet (after the reservations were closed). Idempotent. */
  close(): Promise<void>;
}

export function createFleetPlane(options: FleetPlaneOptions): FleetPlane {
  const { config, registry, bus, clock, signal } = options;
  const logger = options.logger.child({ actor: 'fleet' });
  const fleet = createRedisFleet({ url: options.url, instanceId: options.instanceId, leaseMs: config.instanceLeaseMs, clock });
  const isLocal = (nodeId: string) => registry.node(nodeId)?.connected ?? false;
  const reservations = createRedisReservations({ client: fleet.client, leaseMs: config.reservationLeaseMs, isLocal, clock });
  const view = new FleetView({ fleet, bus, logger, isLocal, signal });
  const router = new FleetRouter({ registry, view, fleet, logger, signal });
  registerPrometheusFleetGauges(options.metricsRegistry, () => ({ storeUp: view.storeUp(), instances: view.instances().length, remoteNodes: view.remoteCount() }));

  const offs = [
    bus.subscribe('session.opened', (e) => fleet.homeSessions([e.sessionId])),
    bus.subscribe('session.closed', (e) => fleet.leaveSessions([e.sessionId])),
  ];

  const resynchronize = async () => {
    // Slots first (so that no instance overbooks a node), then this instance's records, then the view.
    await reservations.resync().catch((err: unknown) => logger.warn({ err }, 'could not write the job slots back'));
    await registry.resyncStore();
    await view.resync().catch((err: unknown) => logger.warn({ err }, 'could not read the fleet back'));
  };

  let closing: Promise<void> | undefined;
  return {
    reservations,
    router,
    view,
    children: [fleetChildSpec({ view, clock, logger, refreshMs: Math.max(100, Math.floor(config.instanceLeaseMs / 3)), resyncMs: config.fleetResyncMs })],
    routes: [
      {
        method: 'GET',
        path: '/api/v1/instances',
        handle: async () => {
          try {
            return { status: 200, json: { self: options.instanceId, store: 'up', instances: await fleet.instances(signal) } };
          } catch {
            return { status: 200, json: { self: options.instanceId, store: 'down', instances: view.instances() } };
          }
        },
      },
    ],
    degraded: () => (view.storeUp() ? undefined : 'store_unreachable'),
    attach(dispatcher) {
      router.setDispatcher(dispatcher);
      registry.onJobMessage(router.onLocalNodeMessage);
    },
    async start(address) {
      await fleet.start(
        {
          envelope: router.onEnvelope,
          nodesChanged: (nodeIds) => {
            view.refresh(nodeIds).catch((err: unknown) => logger.debug({ err }, 'could not read changed nodes'));
          },
          connection: (up) => {
            view.setStoreUp(up);
            if (up) void resynchronize();
          },
        },
        address,
      );
      await view.resync();
      logger.info({ instances: view.instances().map((i) => i.instanceId), remoteNodes: view.remoteCount() }, 'joined the fleet');
    },
    close() {
      closing ??= (async () => {
        offs.forEach((off) => off());
        await fleet.close();
      })();
      return closing;
    },
  };
}
