/**
 * `startAll(options)`: the whole system on one box, in one process — what `linguamesh up` runs and
 * what an embedding host calls to get a working fleet of one.
 *
 * ```
 * up
 * ├─ hub        startHub: storage <dataDir>/hub, loopback
 * ├─ scheduler  startScheduler: loopback, memory store, CPU nodes allowed when there is no GPU
 * └─ node       startNodeRole: <dataDir>/node, the hub as its package source
 * ```
 *
 * Start: the hub and the scheduler; the reference services (native/services/) are built, packed
 * and published to the hub unless it has their versions already; the node starts and installs
 * them through its package manager (download, verify, unpack, start: `onProgress` hears each
 * step); then `ready` waits until the scheduler holds the node as `ready` — three healthy
 * heartbeats, as for any node. The scheduler announces a heartbeat period of
 * `heartbeatIntervalMs` (2 s here instead of a fleet's 15 s: on one box there is no network to
 * spare), so that takes seconds. `stop()` stops the node (its services with it), then the
 * scheduler, then the hub, and leaves no process or handle behind. No signal handlers, no
 * `process.exit`: the caller decides.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { createHardwareAdapter } from '../adapters/hardware.adapter.js';
import type { NodeStatusReport } from '../actors/node/node-status.js';
import { systemClock } from '../kernel/clock.js';
import type { Clock } from '../kernel/clock.js';
import { AbortedError, ConfigError, isKernelError, KernelError, toKernelError } from '../kernel/errors.js';
import type { KernelErrorLike } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import type { HardwarePort } from '../kernel/ports/hardware.port.js';
import type { SystemExit } from '../kernel/system.js';
import { startNodeRole } from './node-role.js';
import type { NodeRoleHandle } from './node-role.js';
import { publishReferencePackages } from './reference-packages.js';
import type { PublishStep, ReferencePackage } from './reference-packages.js';
import { DEFAULT_ALL_OPTIONS } from './start-all.defaults.js';
import { startHub } from './start-hub.js';
import type { HubHandle } from './start-hub.js';
import { startScheduler } from './start-scheduler.js';
import type { SchedulerHandle, SchedulerStatus } from './start-scheduler.js';
import { waitForNodeReady } from './up-readiness.js';

export interface AllOptions {
  /** Hub storage (`hub/`), node state and installed services (`node/`), builds (`build/`), demo output (`demo/`). */
  dataDir: string;
  /** Scheduler port (HTTP, /ws/node, /ws/session); 0 picks a free one. */
  schedulerPort: number;
  /** Hub port; 0 picks a free one. */
  hubPort: number;
  /** Node control endpoint port; 0 picks a free one. */
  nodePort: number;
  /** Heartbeat period the scheduler announces, in ms (a fleet's default is 15 000). */
  heartbeatIntervalMs: number;
  /** Accept nodes without a GPU. Default (undefined): when the hardware probe finds no GPU. */
  allowCpuNodes: boolean | undefined;
  /** Longest wait, after the installs, for the scheduler to hold the node as `ready`, in ms. */
  readyTimeoutMs: number;
  /** Reference services to publish and install. */
  serviceIds: string[];
}

export { DEFAULT_ALL_OPTIONS };

const port = z.number().int().min(0).max(65_535);
const AllOptionsSchema = z
  .object({
    dataDir: z.string().min(1),
    schedulerPort: port,
    hubPort: port,
    nodePort: port,
    heartbeatIntervalMs: z.number().int().positive(),
    allowCpuNodes: z.boolean().optional(),
    readyTimeoutMs: z.number().int().positive(),
    serviceIds: z.array(z.string().min(1)).min(1),
  })
  .strict();

/** What `startAll` is doing, for a progress display. */
export type StartAllProgress =
  | { kind: 'started'; role: 'hub' | 'scheduler' | 'node'; url: string }
  | { kind: 'publish'; serviceId: string; version: string; step: PublishStep }
  | { kind: 'install'; serviceId: string; version: string; phase: string; bytesDone: number; bytesTotal: number }
  | { kind: 'installed'; serviceId: string; version: string; outcome: string }
  | { kind: 'service'; serviceId: string; state: string; reason?: string }
  | { kind: 'node'; status: string; reason: string };

export interface StartAllOptions extends Partial<AllOptions> {
  logger?: Logger;
  clock?: Clock;
  /** Hardware of the node (and the GPU check). Default: the real probe. */
  hardware?: HardwarePort;
  onProgress?: (event: StartAllProgress) => void;
}

export interface AllUrls {
  /** Scheduler HTTP API (`/api/v1/nodes`, `/metrics`, …). */
  scheduler: string;
  /** Where nodes connect. */
  schedulerNodeWs: string;
  /** Where clients open sessions. */
  schedulerSessionWs: string;
  hub: string;
  /** The node's control endpoint (`/status`, `/api/packages`, `linguamesh pkg --node`). */
  node: string;
}

export interface AllStatus {
  state: 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';
  /** True when the scheduler accepts nodes without a GPU. */
  cpuNodesAllowed?: boolean;
  urls?: AllUrls;
  scheduler?: SchedulerStatus & { nodeList: { nodeId: string; status: string; reason: string; connected: boolean }[] };
  node?: Pick<NodeStatusReport, 'link' | 'services' | 'runningJobs'>;
  hub?: { packages: { serviceId: string; versions: string[] }[] };
}

export type AllRole = 'hub' | 'scheduler' | 'node';

/** Why the three roles stopped: `stop()` was called, or one of them ended on its own (the others were then stopped). */
export type AllExit = { reason: 'stopped' } | { reason: 'role_ended'; role: AllRole; exit: SystemExit };

export interface AllHandle {
  /** Resolves with the URLs once the node is `ready` in the scheduler; rejects when start fails (everything started is stopped). */
  readonly ready: Promise<AllUrls>;
  /** Settles once all three roles have stopped. Never rejects. */
  readonly done: Promise<AllExit>;
  /** Valid once `ready` resolved. */
  readonly urls: AllUrls;
  /** The roles, once each has started. */
  readonly hub: HubHandle | undefined;
  readonly scheduler: SchedulerHandle | undefined;
  readonly node: NodeRoleHandle | undefined;
  status(): Promise<AllStatus>;
  /** Stops the node, then the scheduler, then the hub (a start in progress is cancelled first). Idempotent. */
  stop(): Promise<void>;
}

export function resolveAllOptions(input: Partial<AllOptions>): AllOptions {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = AllOptionsSchema.safeParse({ ...DEFAULT_ALL_OPTIONS, ...defined });
  if (!parsed.success) throw new ConfigError(`invalid up options: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ')}`);
  return { ...parsed.data, dataDir: resolve(parsed.data.dataDir), allowCpuNodes: parsed.data.allowCpuNodes };
}

export function startAll(options: StartAllOptions = {}): AllHandle {
  const { logger: rootLogger = silentLogger(), clock = systemClock, hardware: givenHardware, onProgress = () => undefined, ...rest } = options;
  const log = rootLogger.child({ role: 'up' });
  const lifetime = new AbortController();
  let state: AllStatus['state'] = 'starting';
  let hub: HubHandle | undefined;
  let scheduler: SchedulerHandle | undefined;
  let node: NodeRoleHandle | undefined;
  let urls: AllUrls | undefined;
  let cpuNodesAllowed: boolean | undefined;

  const check = (what: string) => {
    if (lifetime.signal.aborted) throw new AbortedError(`stopped while ${what}`);
  };

  let ended: Extract<AllExit, { reason: 'role_ended' }> | undefined;
  let settleDone!: (exit: AllExit) => void;
  const done = new Promise<AllExit>((resolve) => (settleDone = resolve));
  /** A role whose tree ends while the others run takes them down with it: `up` is one process tree. */
  const watch = (role: AllRole, roleDone: Promise<SystemExit>) => {
    void roleDone.then((exit) => {
      if (state === 'failed' || state === 'stopping' || state === 'stopped' || ended) return;
      ended = { reason: 'role_ended', role, exit };
      const error = exit.reason === 'failed' ? exit.error : undefined;
      log.error({ role, exit: exit.reason, ...(error ? { code: error.code, err: error } : {}) }, `the ${role} stopped on its own: stopping the others`);
      void handle.stop();
    });
  };

  const start = async (): Promise<AllUrls> => {
    const config = resolveAllOptions(rest);
    await mkdir(config.dataDir, { recursive: true });
    const hardware = givenHardware ?? createHardwareAdapter({ logger: log });
    cpuNodesAllowed = config.allowCpuNodes ?? (await hasNoGpu(hardware, lifetime.signal, log));
    check('probing the hardware');

    hub = await startHub({ host: '127.0.0.1', port: config.hubPort, storageDir: join(config.dataDir, 'hub'), logger: rootLogger.child({ role: 'hub' }), clock });
    watch('hub', hub.done);
    onProgress({ kind: 'started', role: 'hub', url: hub.url });
    check('starting the hub');
    scheduler = startScheduler({ host: '127.0.0.1', port: config.schedulerPort, allowCpuNodes: cpuNodesAllowed, heartbeatIntervalMs: config.heartbeatIntervalMs, logger: rootLogger, clock });
    await scheduler.ready;
    watch('scheduler', scheduler.done);
    const schedulerHttp = `http://127.0.0.1:${scheduler.port}`;
    onProgress({ kind: 'started', role: 'scheduler', url: schedulerHttp });
    log.info({ heartbeatIntervalMs: config.heartbeatIntervalMs }, 'single-box fleet: the scheduler asks for a heartbeat every heartbeatIntervalMs (fleet default 15 s); a node is ready after 3 healthy ones');
    check('starting the scheduler');

    const packages = await publishReferencePackages({
      serviceIds: config.serviceIds,
      storageDir: join(config.dataDir, 'hub'),
      buildDir: join(config.dataDir, 'build'),
      catalogue: hub.catalogue,
      onStep: (pkg, step) => onProgress({ kind: 'publish', ...pkg, step }),
      signal: lifetime.signal,
    });

    node = await startNodeRole({
      schedulerUrl: `ws://127.0.0.1:${scheduler.port}`,
      dataDir: join(config.dataDir, 'node'),
      httpPort: config.nodePort,
      hubUrl: hub.url,
      // The reference services run on the CPU; they count only with allow_cpu_services (§3.3).
      allowCpuServices: true,
      hardware,
      logger: rootLogger,
      clock,
    });
    const offServices = node.bus.subscribe('service.statusChanged', (e) => onProgress({ kind: 'service', serviceId: e.serviceId, state: e.state, ...(e.reason ? { reason: e.reason } : {}) }));
    void node.done.then(offServices);
    const { httpPort } = await node.ready;
    watch('node', node.done);
    const nodeUrl = `http://127.0.0.1:${httpPort}`;
    onProgress({ kind: 'started', role: 'node', url: nodeUrl });
    check('starting the node');

    await installAll(node, packages, onProgress, lifetime.signal);
    check('installing the reference services');
    await waitForNodeReady({ scheduler, node, clock, timeoutMs: config.readyTimeoutMs, signal: lifetime.signal, onChange: (status, reason) => onProgress({ kind: 'node', status, reason }) });

    urls = {
      scheduler: schedulerHttp,
      schedulerNodeWs: `ws://127.0.0.1:${scheduler.port}/ws/node`,
      schedulerSessionWs: `ws://127.0.0.1:${scheduler.port}/ws/session`,
      hub: hub.url,
      node: nodeUrl,
    };
    state = 'ready';
    log.info(urls, 'up: hub, scheduler and node ready');
    return urls;
  };

  let stopping: Promise<void> | undefined;
  const stopRoles = async (): Promise<void> => {
    // In order: the node (and its service processes) first, the hub it installs from last.
    await node?.stop();
    await scheduler?.stop();
    await hub?.stop();
  };

  const ready = start().catch(async (err: unknown) => {
    const error = reasonOf(err);
    if (state === 'starting') state = 'failed';
    if (!lifetime.signal.aborted) log.error({ err: error, code: error.code }, 'up could not start');
    lifetime.abort();
    await stopRoles().catch((stopErr: unknown) => log.error({ err: stopErr }, 'stop after a failed start'));
    if (!stopping) settleDone(ended ?? { reason: 'stopped' });
    throw error;
  });
  ready.catch(() => undefined);

  const handle: AllHandle = {
    ready,
    done,
    get urls() {
      if (!urls) throw new KernelError('NOT_READY', 'up is not ready yet: await ready');
      return urls;
    },
    get hub() {
      return hub;
    },
    get scheduler() {
      return scheduler;
    },
    get node() {
      return node;
    },
    status: () => statusOf({ state, cpuNodesAllowed, urls, hub, scheduler, node }),
    stop() {
      stopping ??= (async () => {
        const before = state;
        state = 'stopping';
        lifetime.abort();
        // A start in progress settles (and stops what it started) once it sees the abort.
        if (before === 'starting') await ready.catch(() => undefined);
        await stopRoles();
        state = 'stopped';
        settleDone(ended ?? { reason: 'stopped' });
      })();
      return stopping;
    },
  };
  return handle;
}

/** The error to report: a role's supervisor giving up names the child's own failure as its cause (PORT_IN_USE…). */
function reasonOf(err: unknown): KernelErrorLike {
  let error = toKernelError(err);
  while (error.code === 'SUPERVISOR_INTENSITY_EXCEEDED' && isKernelError(error.cause)) error = error.cause;
  return error;
}

async function hasNoGpu(hardware: HardwarePort, signal: AbortSignal, log: Logger): Promise<boolean> {
  try {
    const probe = await hardware.probe(signal);
    return (probe.hardware.gpus ?? []).length === 0;
  } catch (err) {
    log.warn({ err }, 'hardware probe failed: running as if there were no GPU');
    return true;
  }
}

/** Installs every package on the node at once (one operation per service), reporting each phase. */
async function installAll(node: NodeRoleHandle, packages: readonly ReferencePackage[], onProgress: (event: StartAllProgress) => void, signal: AbortSignal): Promise<void> {
  const manager = node.packages;
  if (!manager) throw new KernelError('NO_PACKAGE_MANAGER', 'the node was started without a hub');
  const off = node.bus.subscribe('package.progress', (e) => onProgress({ kind: 'install', serviceId: e.serviceId, version: e.version, phase: e.phase, bytesDone: e.bytesDone, bytesTotal: e.bytesTotal }));
  try {
    await Promise.all(
      packages.map(async (pkg) => {
        const op = await manager.install(pkg.serviceId, pkg.version, { signal });
        onProgress({ kind: 'installed', ...pkg, outcome: op.outcome ?? 'installed' });
      }),
    );
  } finally {
    off();
  }
}

/** The scheduler's part of the status; nothing when it cannot answer (it failed to listen, or stopped). */
async function schedulerStatusOf(scheduler: SchedulerHandle): Promise<Pick<AllStatus, 'scheduler'>> {
  try {
    const nodeList = scheduler.registry.list().map((n) => ({ nodeId: n.nodeId, status: n.status, reason: n.reason, connected: n.connected }));
    return { scheduler: { ...(await scheduler.status()), nodeList } };
  } catch {
    return {};
  }
}

async function statusOf(parts: {
  state: AllStatus['state'];
  cpuNodesAllowed: boolean | undefined;
  urls: AllUrls | undefined;
  hub: HubHandle | undefined;
  scheduler: SchedulerHandle | undefined;
  node: NodeRoleHandle | undefined;
}): Promise<AllStatus> {
  const { state, cpuNodesAllowed, urls, hub, scheduler, node } = parts;
  const report = node?.status();
  return {
    state,
    ...(cpuNodesAllowed !== undefined ? { cpuNodesAllowed } : {}),
    ...(urls ? { urls } : {}),
    ...(scheduler && (state === 'starting' || state === 'ready') ? await schedulerStatusOf(scheduler) : {}),
    ...(report ? { node: { link: report.link, services: report.services, runningJobs: report.runningJobs } } : {}),
    ...(hub ? { hub: { packages: [...hub.catalogue.current().services.values()].map((s) => ({ serviceId: s.serviceId, versions: s.versions.map((v) => v.version) })) } } : {}),
  };
}
