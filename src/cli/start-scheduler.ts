/**
 * Composition of the scheduler role (ARCHITECTURE.md "Supervision trees"): picks the adapters
 * (capability store, Prometheus metrics, HTTP + WebSocket server) and boots the actor tree
 *
 *   scheduler (root supervisor)
 *   ├─ registry  (supervisor, system id `registry`)
 *   │   └─ shard:00 … shard:3f (supervisors) └─ node:<id> status machines
 *   ├─ scan      (backstop of the node timers)
 *   ├─ dispatcher, sessions (jobs and client sessions: src/cli/scheduler-dispatch.ts)
 *   └─ server    (HTTP + /ws/node + /ws/session on one port)
 *
 * `startScheduler` is what the CLI, tests and an embedding host call.
 */
import { randomBytes } from 'node:crypto';
import { fromPromise } from 'xstate';
import type { IncomingMessage } from 'node:http';
import { createMemoryCapabilityStore } from '../adapters/capability-store-memory.adapter.js';
import { createRedisCapabilityStore } from '../adapters/capability-store-redis.adapter.js';
import { startHttpServer } from '../adapters/http-server.adapter.js';
import { createPrometheusSchedulerMetrics } from '../adapters/prometheus-metrics.adapter.js';
import { createWsLinkServer } from '../adapters/ws-link-server.adapter.js';
import { isAuthorized } from '../actors/scheduler/auth.js';
import { NodeRegistry } from '../actors/scheduler/node-registry.js';
import { resolveSchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import type { SchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import { schedulerRoutes } from '../actors/scheduler/scheduler-routes.js';
import { statusScanActor } from '../actors/scheduler/status-scan.actor.js';
import { createBus } from '../kernel/bus.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { toKernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import type { CapabilityStorePort } from '../kernel/ports/capability-store.port.js';
import type { HttpResponse, HttpServerHandle } from '../kernel/ports/http.port.js';
import { bootSystem } from '../kernel/system.js';
import type { InspectionObserver, SystemExit } from '../kernel/system.js';
import type { ReservationsPort } from '../kernel/ports/reservations.port.js';
import type { DispatcherStatus } from '../actors/scheduler/dispatcher.js';
import type { Dispatcher } from '../actors/scheduler/dispatcher.js';
import { createDispatchPlane } from './scheduler-dispatch.js';
import { createFleetPlane } from './scheduler-fleet.js';

export type { SchedulerConfig } from '../actors/scheduler/scheduler-options.js';
export type { NodeView } from '../actors/scheduler/node-registry.js';

export interface SchedulerOptions extends Partial<SchedulerConfig> {
  logger?: Logger;
  /** Source of time of every timer (a FakeClock in tests). Default the system clock. */
  clock?: Clock;
  /** `process`: SIGINT/SIGTERM stop the scheduler (the CLI). Default `none`. */
  signals?: 'process' | 'none';
  /** A store to use instead of the one `store` names (tests, embedding). Closed by `stop()`. */
  capabilityStore?: CapabilityStorePort;
  /** This instance's id, the owner of its store records. Default `sched-` + 8 random hex digits. */
  instanceId?: string;
  /** Called after each node-link frame with its type and handling time in ms (tracing, benchmarks). */
  observeFrame?: (type: string, ms: number) => void;
  /** Job slots to use instead of this process's memory (tests, a shared store). Closed by `stop()`. */
  reservations?: ReservationsPort;
  /** Receivers of the inspection stream (Stately inspector, JSONL recorder). */
  inspectors?: InspectionObserver[];
}

/** What an embedding host reads about the scheduler's work. */
export interface SchedulerStatus {
  /** Nodes held by this instance (any status). */
  nodes: number;
  /** Client sessions open. */
  sessions: number;
  jobs: DispatcherStatus;
}

export interface SchedulerHandle {
  /** Resolves once the port listens; rejects (e.g. PORT_IN_USE, STORE_UNAVAILABLE) if it never will. */
  readonly ready: Promise<void>;
  /** The bound port; valid once `ready` resolved. */
  readonly port: number;
  readonly host: string;
  readonly instanceId: string;
  /** Nodes, pools and per-node sends, for a dispatcher or an embedding host. */
  readonly registry: NodeRegistry;
  /** Jobs, attempts and slots (PROTOCOL.md §5.3–§5.5). */
  readonly dispatcher: Dispatcher;
  readonly bus: Bus;
  /** Nodes, sessions and jobs now. */
  status(): Promise<SchedulerStatus>;
  /** Settles when the actor tree has stopped, for whatever reason. */
  readonly done: Promise<SystemExit>;
  /** Closes every connection, stops the tree and removes this instance's store records. Idempotent. */
  stop(): Promise<void>;
}

function unauthorized(): HttpResponse {
  return { status: 401, headers: { 'www-authenticate': 'Bearer' }, json: { error: 'unauthorized', code: 'UNAUTHORIZED' } };
}

/** §1.2: every path but `/health` needs the token when one is set. */
function authGuard(token: string | undefined): ((req: IncomingMessage) => HttpResponse | undefined) | undefined {
  if (token === undefined) return undefined;
  return (req) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/health') return undefined;
    return isAuthorized(token, req.headers.authorization, url.searchParams) ? undefined : unauthorized();
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function startScheduler(options: SchedulerOptions = {}): SchedulerHandle {
  const { logger = silentLogger(), clock = systemClock, signals = 'none', capabilityStore, observeFrame, reservations, inspectors, ...overrides } = options;
  const config = resolveSchedulerConfig(overrides);
  const instanceId = options.instanceId ?? `sched-${randomBytes(4).toString('hex').toUpperCase()}`;
  const log = logger.child({ role: 'scheduler', instanceId });
  if (config.allowCpuNodes) log.warn('allow_cpu_nodes is on: nodes without a GPU are accepted and may be ready');
  const bus = createBus({ logger: log });
  const metrics = createPrometheusSchedulerMetrics();
  const lifetime = new AbortController();
  // A Redis store connects first; the registry needs a store at once, so until then it writes
  // through one that waits for the real one (nothing is written before the port listens anyway).
  const immediate = capabilityStore ?? (config.store === 'memory' ? createMemoryCapabilityStore({ ttlMs: config.storeTtlMs, clock }) : undefined);
  const storeOpened = immediate ? Promise.resolve(immediate) : createRedisCapabilityStore({ url: config.store, ttlMs: config.storeTtlMs, announce: true, announceAs: instanceId });
  storeOpened.catch(() => undefined);
  const store = immediate ?? lazyStore(storeOpened);
  const registry = new NodeRegistry({ config, store, metrics, bus, clock, logger: log, instanceId, signal: lifetime.signal, ...(observeFrame ? { observeFrame } : {}) });
  // A Redis store makes this instance part of a fleet: shared slots, the others' nodes, routing.
  const fleet = config.store !== 'memory' && !capabilityStore ? createFleetPlane({ url: config.store, instanceId, config, registry, bus, clock, logger: log, metricsRegistry: metrics.registry, signal: lifetime.signal }) : undefined;
  const shared = reservations ?? fleet?.reservations;
  const plane = createDispatchPlane({
    registry,
    config,
    bus,
    clock,
    logger: log,
    metricsRegistry: metrics.registry,
    signal: lifetime.signal,
    ...(shared ? { reservations: shared } : {}),
    ...(fleet ? { dispatchRegistry: fleet.router, dependencyDown: () => !fleet.view.storeUp() } : {}),
  });
  fleet?.attach(plane.dispatcher);
  const links = createWsLinkServer({
    links: { '/ws/node': registry.linkHandler, '/ws/session': plane.sessionLink },
    maxFrameBytes: config.maxFrameBytes,
    pingIntervalMs: config.wsPingIntervalMs,
    idleTimeoutMs: config.wsIdleTimeoutMs,
    clock,
    logger: log,
  });

  const listening = deferred<HttpServerHandle>();
  const serverClosed = deferred<void>();
  const serve = fromPromise<void>(async ({ signal }) => {
    await storeOpened;
    const http = await startHttpServer({
      host: config.host,
      port: config.port,
      routes: [...schedulerRoutes({ registry, store, metrics, signal: lifetime.signal, ...(fleet ? { degraded: fleet.degraded } : {}) }), ...plane.routes, ...(fleet?.routes ?? [])],
      onUpgrade: links.onUpgrade,
      guard: authGuard(config.authToken),
      logger: log,
    });
    if (fleet) {
      try {
        await fleet.start(`${http.host}:${http.port}`);
      } catch (err) {
        await http.close();
        throw err;
      }
    }
    listening.resolve(http);
    log.info({ host: http.host, port: http.port, store: config.store === 'memory' ? 'memory' : 'redis', auth: config.authToken !== undefined }, 'scheduler listening');
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    registry.beginShutdown();
    plane.beginShutdown();
    await links.close(config.shutdownTimeoutMs);
    await http.close();
    serverClosed.resolve();
  });

  const system = bootSystem({
    root: {
      id: 'scheduler',
      strategy: 'one_for_one',
      children: [
        registry.supervisorSpec(clock),
        { id: 'scan', logic: statusScanActor, input: { clock, intervalMs: config.statusScanIntervalMs, scan: () => registry.scan() }, shutdownMs: 0 },
        ...plane.children,
        ...(fleet?.children ?? []),
        // Not restarted: a port that cannot be bound stays unbound; the failure stops the scheduler.
        { id: 'server', logic: serve, restart: 'transient', maxRestarts: 0, shutdownMs: 0 },
      ],
    },
    logger: log,
    clock,
    signals,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    ...(inspectors ? { inspectors } : {}),
  });

  let http: HttpServerHandle | undefined;
  const ready = Promise.race([
    listening.promise.then((handle) => {
      http = handle;
    }),
    system.done.then(async (exit) => {
      if (http) return;
      const cause = await storeOpened.then(
        () => undefined,
        (err: unknown) => err,
      );
      throw cause ?? (exit.reason === 'failed' ? exit.error : toKernelError(new Error(`scheduler stopped before listening (${exit.reason})`)));
    }),
  ]);
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      registry.beginShutdown();
      plane.beginShutdown();
      await system.stop();
      if (http) await serverClosed.promise;
      await plane.close();
      await registry.close();
      lifetime.abort();
      await store.close();
      await fleet?.close();
    })();
    return stopping;
  };
  // A tree stopped by a signal (the CLI) releases the rest the same way.
  void system.done.then(() => stop());

  return {
    ready,
    get port() {
      if (!http) throw new Error('scheduler is not listening yet: await ready');
      return http.port;
    },
    get host() {
      return http?.host ?? config.host;
    },
    instanceId,
    registry,
    dispatcher: plane.dispatcher,
    bus,
    status: async () => ({ nodes: registry.list().length, ...(await plane.status()) }),
    done: system.done,
    stop,
  };
}

/** A store whose calls wait until `opened` resolves (and reject like it when it failed). */
function lazyStore(opened: Promise<CapabilityStorePort>): CapabilityStorePort {
  return {
    put: async (node, signal) => (await opened).put(node, signal),
    update: async (nodeId, registrationId, patch, signal) => (await opened).update(nodeId, registrationId, patch, signal),
    get: async (nodeId, signal) => (await opened).get(nodeId, signal),
    list: async (signal) => (await opened).list(signal),
    remove: async (nodeId, registrationId, signal) => (await opened).remove(nodeId, registrationId, signal),
    removeOwnedBy: async (owner, signal) => (await opened).removeOwnedBy(owner, signal),
    pools: async (variant, signal) => (await opened).pools(variant, signal),
    close: () => opened.then((store) => store.close(), () => undefined),
  };
}
