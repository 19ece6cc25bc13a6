/**
 * The session and dispatch plane of the scheduler (issue "Jobs end to end"), composed for
 * `startScheduler`: the dispatcher (with its reservations store and metrics), the `sessions`
 * supervisor, the `/ws/session` handler and `GET /api/v1/dispatch`.
 *
 *   scheduler (root)
 *   ├─ registry, scan …
 *   ├─ dispatcher  system id `dispatcher`: follows pools and node loss
 *   ├─ sessions    supervisor └─ session:<id> (session machine, temporary)
 *   └─ server
 */
import type { Registry } from 'prom-client';
import { createPrometheusDispatchMetrics } from '../adapters/prometheus-dispatch-metrics.adapter.js';
import { createMemoryReservations } from '../adapters/reservations-memory.adapter.js';
import { Dispatcher } from '../actors/scheduler/dispatcher.js';
import type { DispatcherStatus, DispatchRegistry } from '../actors/scheduler/dispatcher.js';
import { dispatcherChildSpec } from '../actors/scheduler/dispatcher.actor.js';
import { dispatchRoutes } from '../actors/scheduler/dispatch-routes.js';
import type { NodeRegistry } from '../actors/scheduler/node-registry.js';
import type { SchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import { createSessionLinkHandler } from '../actors/scheduler/session-link.js';
import { Sessions } from '../actors/scheduler/sessions.actor.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';
import type { HttpRoute } from '../kernel/ports/http.port.js';
import type { LinkHandler } from '../kernel/ports/link.port.js';
import type { ReservationsPort } from '../kernel/ports/reservations.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';

export interface DispatchPlaneOptions {
  registry: NodeRegistry;
  config: SchedulerConfig;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** The scheduler instance's Prometheus registry. */
  metricsRegistry: Registry;
  /** Default: slots in this process's memory. Closed by `close()`. */
  reservations?: ReservationsPort;
  /** Aborted when the scheduler stops. */
  signal: AbortSignal;
  /** What the dispatcher reads nodes from, when not `registry` alone (a fleet: this instance's nodes and the others'). */
  dispatchRegistry?: DispatchRegistry;
  /** True while the fleet's shared store is unreachable. */
  dependencyDown?: () => boolean;
}

export interface DispatchPlane {
  readonly dispatcher: Dispatcher;
  readonly sessions: Sessions;
  readonly sessionLink: LinkHandler;
  /** `dispatcher` then `sessions`, for the root supervisor (sessions stop first). */
  readonly children: ChildSpecInput[];
  readonly routes: HttpRoute[];
  status(): Promise<{ sessions: number; jobs: DispatcherStatus }>;
  /** From now on socket closes do not restart anything. */
  beginShutdown(): void;
  /** After the tree has stopped: timers, slots, the store. Idempotent. */
  close(): Promise<void>;
}

export function createDispatchPlane(options: DispatchPlaneOptions): DispatchPlane {
  const { registry, config, bus, clock, logger, signal } = options;
  const metrics = createPrometheusDispatchMetrics(options.metricsRegistry);
  const reservations = options.reservations ?? createMemoryReservations();
  const dispatcher = new Dispatcher({
    registry: options.dispatchRegistry ?? registry,
    reservations,
    bus,
    clock,
    logger,
    metrics,
    config,
    signal,
    ...(options.dependencyDown ? { dependencyDown: options.dependencyDown } : {}),
  });
  const sessions = new Sessions({ dispatcher, bus, clock, logger, metrics, config });
  dispatcher.setSink(sessions);
  registry.onJobMessage(dispatcher.onNodeMessage);
  metrics.setGaugeSource(() => ({ ...dispatcher.gauges(), sessionsOpen: sessions.openCount() }));
  let closing: Promise<void> | undefined;
  return {
    dispatcher,
    sessions,
    sessionLink: createSessionLinkHandler({ sessions, clock, logger, maxFrameBytes: config.maxFrameBytes }),
    children: [dispatcherChildSpec(dispatcher), sessions.childSpec()],
    routes: dispatchRoutes({ dispatcher, sessions }),
    status: async () => ({ sessions: sessions.openCount(), jobs: await dispatcher.status() }),
    beginShutdown: () => sessions.beginShutdown(),
    close: () => {
      closing ??= (async () => {
        await dispatcher.close();
        await reservations.close();
      })();
      return closing;
    },
  };
}
