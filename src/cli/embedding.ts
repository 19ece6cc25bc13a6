/**
 * The embedding API (`import { startNode, startScheduler, startHub } from 'linguamesh'`): one
 * function per role over the role's composition (`startNodeRole`, `startScheduler`, `startHub`),
 * options from the role's configuration schema (src/cli/role-config.schema.ts, the same keys as
 * the CLI's config file), and one handle shape for all three:
 *
 * - `ready`: resolves with the role's `port` and `url` once it serves; rejects when it never will.
 * - `status()`: what the role is doing now.
 * - `on(type, handler)`: a typed subscription to the role's bus events (`'*'`: every event); returns
 *   the unsubscribe function.
 * - `inspector`: where the inspection stream goes, when `inspect` or `record` is set.
 * - `done`: settles once the role has stopped, for whatever reason (never rejects).
 * - `stop()`: ordered shutdown of the whole role (its service processes and worker threads
 *   included); resolves when nothing of it is left running. Idempotent.
 *
 * Embedded, a role installs no signal handlers and never calls `process.exit`. Logs go to the
 * `logger` the host passes (pino or pino-compatible); with none they are dropped, unless the options
 * name a `logLevel` (then linguamesh's own pino logger writes to stdout). Invalid options throw a
 * KernelError INVALID_CONFIG at once, naming the keys. The CLI's role commands run through here.
 */
import type { NodeView } from '../actors/scheduler/node-registry.js';
import type { NodeStatusReport } from '../actors/node/node-status.js';
import type { DispatcherStatus } from '../actors/scheduler/dispatcher.js';
import { createBus } from '../kernel/bus.js';
import type { Bus, BusEvent, BusEventOf, BusEventType } from '../kernel/bus.js';
import { toKernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { SystemExit } from '../kernel/system.js';
import { startNodeRole } from './node-role.js';
import type { NodeRoleHandle } from './node-role.js';
import { checkRoleConfig, effectiveConfig } from './role-config.js';
import type { EffectiveConfigs, Observability } from './role-config.js';
import type { HubRoleConfig, NodeRoleConfig, Role, SchedulerRoleConfig } from './role-config.schema.js';
import { embeddedLogger, openInspection } from './role-observability.js';
import type { Inspection, InspectorInfo } from './role-observability.js';
import { startHub as startHubRole } from './start-hub.js';
import type { HubHandle as HubRoleHandle } from './start-hub.js';
import { startScheduler as startSchedulerRole } from './start-scheduler.js';

export type { InspectorInfo } from './role-observability.js';

/** What every embedding function takes besides the role's configuration keys. */
export interface EmbeddingOptions {
  /** The host's logger (pino or pino-compatible: `child`, `info`, `warn`, `error`, …). Default: silent. */
  logger?: Logger;
}

/** Options of `startNode`: the node's configuration keys (`schedulerUrl` required). */
export type NodeOptions = NodeRoleConfig & Required<Pick<NodeRoleConfig, 'schedulerUrl'>> & EmbeddingOptions;
/** Options of `startScheduler`: the scheduler's configuration keys. */
export type SchedulerOptions = SchedulerRoleConfig & EmbeddingOptions;
/** Options of `startHub`: the hub's configuration keys (`storageDir` required). */
export type HubOptions = HubRoleConfig & Required<Pick<HubRoleConfig, 'storageDir'>> & EmbeddingOptions;

export interface RoleReady {
  /** The bound port (the node's: its control endpoint). */
  port: number;
  /** `http://host:port`, loopback when the role listens on every interface. */
  url: string;
}

export type RoleExit = SystemExit;

export interface RoleHandle<Status> {
  readonly role: Role;
  readonly ready: Promise<RoleReady>;
  status(): Promise<Status>;
  on<K extends BusEventType>(type: K, handler: (event: BusEventOf<K>) => void): () => void;
  on(type: '*', handler: (event: BusEvent) => void): () => void;
  readonly inspector: InspectorInfo | undefined;
  readonly done: Promise<RoleExit>;
  stop(): Promise<void>;
}

export type NodeStatus = NodeStatusReport;

export interface SchedulerStatus {
  role: 'scheduler';
  instanceId: string;
  nodes: Pick<NodeView, 'nodeId' | 'status' | 'reason' | 'connected' | 'maxConcurrentJobs'>[];
  /** Client sessions open. */
  sessions: number;
  jobs: DispatcherStatus;
}

export interface HubStatus {
  role: 'hub';
  /** Completed storage scans. */
  scans: number;
  /** Latest version of each service package, by service id. */
  services: Record<string, string>;
  models: string[];
}

export type NodeHandle = RoleHandle<NodeStatus>;
export type SchedulerHandle = RoleHandle<SchedulerStatus>;
export type HubHandle = RoleHandle<HubStatus>;

function urlOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

/** The keys a role resolves itself (its settings), without the observability ones. */
function settingsOf<T extends Observability>(config: T): Omit<T, keyof Observability> {
  const { logLevel: _l, logFormat: _f, inspect: _i, record: _r, ...settings } = config;
  return settings;
}

function prepare<R extends Role>(role: R, options: EmbeddingOptions & object, caller: string): { config: EffectiveConfigs[R]; logger: Logger; bus: Bus; inspection: Inspection } {
  const { logger: host, ...given } = options;
  const checked = checkRoleConfig(role, given, `${caller} options`);
  const config = effectiveConfig(role, checked);
  const logger = embeddedLogger(host, checked);
  return { config, logger, bus: createBus({ logger }), inspection: openInspection(config) };
}

function handle<Status>(parts: { role: Role; bus: Bus; inspection: Inspection; ready: Promise<RoleReady>; status: () => Promise<Status>; done: Promise<RoleExit>; stop: () => Promise<unknown> }): RoleHandle<Status> {
  parts.ready.catch(() => undefined);
  // The inspection stream ends with the role, however it stopped.
  const done = parts.done.then(async (exit) => {
    await parts.inspection.close();
    return exit;
  });
  let stopping: Promise<void> | undefined;
  return {
    role: parts.role,
    ready: parts.ready,
    status: parts.status,
    on: ((type: string, handler: (event: BusEvent) => void) => (type === '*' ? parts.bus.subscribeAll(handler) : parts.bus.subscribe(type as BusEventType, handler))) as RoleHandle<Status>['on'],
    inspector: parts.inspection.info,
    done,
    stop: () => {
      stopping ??= parts.stop().then(async () => {
        await done;
      });
      return stopping;
    },
  };
}

const failed = (err: unknown): RoleExit => ({ reason: 'failed', error: toKernelError(err) });

/** A whole compute node: link, heartbeats, services (hot-plug), jobs, packages with a hub. */
export function startNode(options: NodeOptions): NodeHandle {
  const { config, logger, bus, inspection } = prepare('node', options, 'startNode');
  const { extraServiceDirs, hubUrl, hubKeys, schedulerUrls, ...settings } = settingsOf(config);
  const inner: Promise<NodeRoleHandle> = startNodeRole({
    ...settings,
    schedulerUrl: schedulerUrls,
    extraServiceDirs,
    ...(hubUrl !== undefined ? { hubUrl, hubKeys: hubKeys ?? {} } : {}),
    bus,
    logger,
    signals: 'none',
    inspectors: inspection.inspectors,
  });
  inner.catch(() => undefined);
  return handle({
    role: 'node',
    bus,
    inspection,
    ready: inner.then((node) => node.ready).then(({ httpPort }) => ({ port: httpPort, url: urlOf(config.httpHost, httpPort) })),
    status: async () => (await inner).status(),
    done: inner.then((node) => node.done, failed),
    stop: async () => {
      const node = await inner.catch(() => undefined);
      await node?.stop();
    },
  });
}

/** A scheduler: node registry, pools, dispatch, client sessions, on one port. */
export function startScheduler(options: SchedulerOptions = {}): SchedulerHandle {
  const { config, logger, inspection } = prepare('scheduler', options, 'startScheduler');
  const inner = startSchedulerRole({ ...settingsOf(config), logger, signals: 'none', inspectors: inspection.inspectors });
  return handle({
    role: 'scheduler',
    bus: inner.bus,
    inspection,
    ready: inner.ready.then(() => ({ port: inner.port, url: urlOf(inner.host, inner.port) })),
    status: async () => {
      const { nodes: _count, ...work } = await inner.status();
      const nodes = inner.registry.list().map(({ nodeId, status, reason, connected, maxConcurrentJobs }) => ({ nodeId, status, reason, connected, maxConcurrentJobs }));
      return { role: 'scheduler' as const, instanceId: inner.instanceId, nodes, ...work };
    },
    // The tree stops first; the store and the connections are released after it.
    done: inner.done.then(async (exit) => {
      await inner.stop();
      return exit;
    }),
    stop: () => inner.stop(),
  });
}

/** A model hub: versioned service packages over HTTP (PROTOCOL.md §10). */
export function startHub(options: HubOptions): HubHandle {
  const { config, logger, bus, inspection } = prepare('hub', options, 'startHub');
  const inner: Promise<HubRoleHandle> = startHubRole({ ...settingsOf(config), logger: logger.child({ role: 'hub' }), bus, inspectors: inspection.inspectors });
  inner.catch(() => undefined);
  let settle!: (exit: RoleExit) => void;
  const stopped = new Promise<RoleExit>((resolve) => (settle = resolve));
  inner.then(
    (hub) => hub.done.then(settle),
    (err: unknown) => settle(failed(err)),
  );
  return handle({
    role: 'hub',
    bus,
    inspection,
    ready: inner.then((hub) => ({ port: hub.port, url: hub.url })),
    status: async () => {
      const catalogue = (await inner).catalogue.current();
      const services = Object.fromEntries([...catalogue.services.values()].map((s) => [s.serviceId, s.latest.version]));
      return { role: 'hub' as const, scans: catalogue.generation, services, models: [...catalogue.models.keys()] };
    },
    done: stopped,
    stop: async () => {
      const hub = await inner.catch(() => undefined);
      await hub?.stop();
      await stopped;
    },
  });
}
