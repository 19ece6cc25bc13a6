/**
 * `startNode(options)`: one node process as a supervised actor tree — the composition root of the
 * node role, where adapters are picked and handed to the actors.
 *
 * ```
 * node (one_for_one)
 * ├─ hardware   probe at start; samples for heartbeats
 * ├─ link       systemId `link`: ws client, registration, reconnect with backoff
 * ├─ heartbeat  systemId `heartbeat`: interval, ack, debounced changes
 * ├─ …          `services.children` (hot-plug services supervisor)
 * ├─ …          `jobs(…).children` (audio workers, jobs supervisor: src/cli/jobs-runtime.ts)
 * └─ http       loopback control endpoint: /health, /status, /metrics, POST /api/v1/link/retry, `services.routes`
 * ```
 *
 * Extension points for other node features:
 * - `services.registry`: the ServiceRegistryPort the heartbeat and registration read (default: a
 *   registry with no services); changes are announced on `bus` as `service.statusChanged`.
 * - `services.children`: extra supervisor children, started after `heartbeat` and stopped before it.
 * - `services.routes`: extra routes of the control endpoint.
 * - `services.control`: the ServiceControlPort jobs use for on-demand starts (default: none can start).
 * - `jobs`: called once with the node's bus, clock, logger, registry, control and `maxConcurrentJobs`; its
 *   children start after the services' (so jobs stop before the services they call), its
 *   `runningJobs` feeds heartbeats and `/status`, and its `close()` runs after the tree has stopped.
 * - `bus`: pass one to publish into (and subscribe to) the node's bus from outside; `runningJobs`
 *   feeds `resource_usage.running_jobs`.
 * Sending to the scheduler: publish `{ type: 'link.send', message }` on the bus. It is sent while
 * the node is registered with an open socket and dropped otherwise (`link.sendDropped`).
 */
import { fromPromise } from 'xstate';
import { createHardwareAdapter } from '../adapters/hardware.adapter.js';
import { startHttpServer } from '../adapters/http-server.adapter.js';
import { createNodeIdentityFileStore } from '../adapters/node-identity-file.adapter.js';
import { createWsSchedulerLink } from '../adapters/scheduler-link-ws.adapter.js';
import { createHardwareMonitor } from '../actors/node/hardware.actor.js';
import { createHeartbeatActor } from '../actors/node/heartbeat.actor.js';
import { createLinkActor } from '../actors/node/link.actor.js';
import { createNodeMetrics } from '../actors/node/node-metrics.js';
import { nodeRoutes } from '../actors/node/node-http.routes.js';
import { createNodeStatusTracker } from '../actors/node/node-status.js';
import type { NodeStatusReport } from '../actors/node/node-status.js';
import { createBus } from '../kernel/bus.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import type { HardwarePort } from '../kernel/ports/hardware.port.js';
import type { HttpRoute } from '../kernel/ports/http.port.js';
import type { NodeIdentityStore } from '../kernel/ports/node-identity.port.js';
import type { SchedulerLinkPort } from '../kernel/ports/scheduler-link.port.js';
import type { ServiceControlPort, ServiceRegistryPort } from '../kernel/ports/service-registry.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';
import { bootSystem } from '../kernel/system.js';
import type { InspectionObserver, SystemExit } from '../kernel/system.js';
import { serverMachine } from '../machines/server.machine.js';
import { newUuid } from '../protocol/ids.js';
import { resolveNodeSettings } from './node-options.js';
import type { NodeSettingsInput } from './node-options.js';

/** What other node features plug in (see the module comment). */
export interface NodeServicesExtension {
  registry: ServiceRegistryPort;
  /** Starting and stopping services (on-demand starts of jobs). Default: NO_SERVICE_CONTROL. */
  control?: ServiceControlPort;
  children?: ChildSpecInput[];
  routes?: HttpRoute[];
}

/** What the `jobs` extension gets from the node. */
export interface NodeJobsContext {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  registry: ServiceRegistryPort;
  control: ServiceControlPort;
  /** The node's `max_concurrent_jobs` (§2.2), the bound of its acceptance check (§8.2 check 4). */
  maxConcurrentJobs: number;
}

/** Job processing plugged into the node (see the module comment; `createJobsRuntime` builds one). */
export interface NodeJobsExtension {
  children: ChildSpecInput[];
  runningJobs(): number;
  /** Versions of a service its jobs are calling now (package removal waits for them). Default: none. */
  inUseVersions?(serviceId: string): ReadonlySet<string>;
  close?(): Promise<void>;
}

export interface StartNodeOptions extends NodeSettingsInput {
  services?: NodeServicesExtension;
  jobs?: (node: NodeJobsContext) => NodeJobsExtension;
  /** Jobs being processed now (`resource_usage.running_jobs`). Default: the `jobs` extension's count, else none. */
  runningJobs?: () => number;
  bus?: Bus;
  clock?: Clock;
  logger?: Logger;
  /** Random source of the reconnect jitter, in [0, 1). */
  random?: () => number;
  /** `process`: SIGINT/SIGTERM stop the node (the CLI). Default `none`. */
  signals?: 'process' | 'none';
  inspectors?: InspectionObserver[];
  /** Adapters; defaults are the real ones (systeminformation + nvidia-smi, ws, a file in `dataDir`). */
  hardware?: HardwarePort;
  schedulerLink?: SchedulerLinkPort;
  identityStore?: NodeIdentityStore;
}

export interface NodeHandle {
  /** Resolves once the control endpoint listens; rejects when the node fails before that. */
  ready: Promise<{ httpPort: number }>;
  /** Settles when the node has stopped, for whatever reason. */
  done: Promise<SystemExit>;
  bus: Bus;
  /** This process's epoch (§3.2). */
  epoch: string;
  status(): NodeStatusReport;
  /** Ordered shutdown (idempotent); pending node_id writes and heartbeats are flushed. */
  stop(): Promise<SystemExit>;
}

/** A registry with no services: a node that only registers and reports its hardware. */
export const EMPTY_SERVICE_REGISTRY: ServiceRegistryPort = { list: () => [], get: () => undefined };

/** The control side of EMPTY_SERVICE_REGISTRY: there is nothing to start or stop. */
export const NO_SERVICE_CONTROL: ServiceControlPort = (() => {
  const refuse = async (id: string): Promise<never> => {
    throw new KernelError('SERVICE_NOT_INSTALLED', `service ${id} is not installed on this node`, { details: { serviceId: id } });
  };
  return { start: refuse, stop: refuse, restart: refuse, setEnabled: refuse, ensureRunning: refuse };
})();

export function startNode(options: StartNodeOptions): NodeHandle {
  const settings = resolveNodeSettings(options);
  const clock = options.clock ?? systemClock;
  const logger = (options.logger ?? silentLogger()).child({ role: 'node' });
  const bus = options.bus ?? createBus({ logger });
  const registry = options.services?.registry ?? EMPTY_SERVICE_REGISTRY;
  const control = options.services?.control ?? NO_SERVICE_CONTROL;
  const jobs = options.jobs?.({ bus, clock, logger, registry, control, maxConcurrentJobs: settings.maxConcurrentJobs });
  const runningJobs = options.runningJobs ?? (jobs ? () => jobs.runningJobs() : () => 0);
  const epoch = newUuid();

  const hardware = createHardwareMonitor({ port: options.hardware ?? createHardwareAdapter({ logger }), bus, clock, logger, sampleTimeoutMs: settings.sampleTimeoutMs });
  const link = createLinkActor({
    bus,
    logger,
    port: options.schedulerLink ?? createWsSchedulerLink({ logger: logger.child({ actor: 'link' }), maxFrameBytes: settings.maxFrameBytes }),
    target: { urls: settings.schedulerUrls, ...(settings.authToken ? { authToken: settings.authToken } : {}) },
    identityStore: options.identityStore ?? createNodeIdentityFileStore({ dir: settings.dataDir, logger }),
    hardware,
    registry,
    identity: { version: settings.version, epoch, acceptPublicJobs: settings.acceptPublicJobs, maxConcurrentJobs: settings.maxConcurrentJobs },
    allowCpuServices: settings.allowCpuServices,
    options: { wsPingIntervalMs: settings.wsPingIntervalMs, linkDeadMs: settings.linkDeadMs, reconnectMinMs: settings.reconnectMinMs, reconnectMaxMs: settings.reconnectMaxMs, reconnectJitter: settings.reconnectJitter },
    ...(options.random ? { random: options.random } : {}),
  });
  const heartbeat = createHeartbeatActor({
    bus,
    logger,
    clock,
    registry,
    hardware,
    epoch,
    runningJobs,
    allowCpuServices: settings.allowCpuServices,
    options: { intervalMs: settings.heartbeatIntervalMs, debounceMs: settings.heartbeatDebounceMs },
  });
  const status = createNodeStatusTracker({ bus, clock, registry, runningJobs, epoch, schedulerUrls: settings.schedulerUrls });
  const metrics = createNodeMetrics(bus);
  const routes = [...nodeRoutes({ bus, status, metrics }), ...(options.services?.routes ?? [])];

  let resolveReady!: (value: { httpPort: number }) => void;
  let rejectReady!: (reason: unknown) => void;
  const ready = new Promise<{ httpPort: number }>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Unobserved until a caller awaits it; a node that fails early must not raise an unhandled rejection.
  ready.catch(() => undefined);

  let lastOpenError: unknown;
  const http = serverMachine.provide({
    actors: {
      open: fromPromise(async ({ signal }) => {
        const server = await startHttpServer({ host: settings.httpHost, port: settings.httpPort, routes, logger }).catch((err: unknown) => {
          lastOpenError = err;
          logger.error({ err }, 'node control endpoint cannot listen');
          throw err;
        });
        if (signal.aborted) {
          await server.close();
          throw new AbortedError('node stopped while its endpoint was opening');
        }
        logger.info({ url: `http://${server.host}:${server.port}` }, 'node control endpoint listening');
        resolveReady({ httpPort: server.port });
        return server;
      }),
    },
  });

  const system = bootSystem({
    clock,
    logger,
    signals: options.signals ?? 'none',
    ...(options.inspectors ? { inspectors: options.inspectors } : {}),
    root: {
      id: 'node',
      strategy: 'one_for_one',
      ...(options.random ? { random: options.random } : {}),
      children: [
        hardware.childSpec(),
        link.childSpec(),
        heartbeat.childSpec(),
        ...(options.services?.children ?? []),
        ...(jobs?.children ?? []),
        { id: 'http', logic: http, restart: 'permanent', maxRestarts: 2, shutdownMs: 10_000 },
      ],
    },
  });

  const done = system.done.then(async (exit) => {
    rejectReady(lastOpenError ?? new AbortedError(`node stopped before its endpoint listened (${exit.reason})`));
    await Promise.all([link.flush(), heartbeat.flush(), jobs?.close?.()]);
    heartbeat.dispose();
    status.dispose();
    metrics.dispose();
    return exit;
  });

  let stopping: Promise<SystemExit> | undefined;
  return {
    ready,
    done,
    bus,
    epoch,
    status: () => status.report(),
    stop: () => {
      stopping ??= system.stop().then(() => done);
      return stopping;
    },
  };
}
