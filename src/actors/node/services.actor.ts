/**
 * The node's local speech services (hot-plug, ARCHITECTURE.md "Hot-plug"): discovery of the
 * installed and extra service directories, one `service:<id>` lifecycle actor per usable service
 * under the `services` supervisor, the registry the heartbeat and the jobs read
 * (ServiceRegistryPort), and the control the operator and the jobs use (ServiceControlPort).
 *
 * Every state change of a service updates its registry snapshot first and then publishes
 * `service.statusChanged` on the bus, so a subscriber that reads the registry sees the new state.
 * Ports are chosen here (§9.8): the operator's override, else service.json `port`, else (or when
 * taken, by anything, including another of our services) a free loopback port; two of our services
 * never share one.
 */
import { join, resolve } from 'node:path';
import type { AnyActorRef } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import { KernelError, TimeoutError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { LoopbackPortPort } from '../../kernel/ports/loopback-port.port.js';
import type { ProcessPort } from '../../kernel/ports/process.port.js';
import type { DiscoveredService, ServiceDirectoryPort } from '../../kernel/ports/service-directory.port.js';
import type { ServiceHealthPort } from '../../kernel/ports/service-health.port.js';
import { wireStatusOf } from '../../kernel/ports/service-registry.port.js';
import type { ServiceControlPort, ServiceRegistryPort, ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import type { StateFilePort } from '../../kernel/ports/state-file.port.js';
import { supervisorMachine } from '../../kernel/supervisor.js';
import type { ChildSpecInput, SupervisorInput } from '../../kernel/supervisor.js';
import type { ServiceLifecycleInput, ServiceLifecycleView } from '../../machines/service-lifecycle.machine.js';
import { ServicesStateFileSchema } from '../../protocol/node-files.schema.js';
import { parseWith } from '../../protocol/validation.js';
import { createEntry, notifyWaiters, rejectWaiters, sameLanguages, serviceNotFound, snapshotFromView, waitForEntry } from './service-entries.js';
import type { ServiceEntry, Verdict } from './service-entries.js';
import { oneServicePerId, sameDiscovery } from './service-discovery.js';
import { createServicePortAllocator } from './service-ports.js';
import { createServiceProcessBook } from './service-process-book.js';
import { serviceActorLogic } from './service.actor.js';
import { policyFor, resolveServicesOptions } from './services.options.js';
import type { ServicesOptions } from './services.options.js';

export interface ServicesDeps {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  processes: ProcessPort;
  health: ServiceHealthPort;
  ports: LoopbackPortPort;
  directory: ServiceDirectoryPort;
  stateFiles: StateFilePort;
  /** Random source of the backoff jitter, in [0, 1). */
  random?: () => number;
}

export interface RescanReport {
  added: string[];
  removed: string[];
  /** Services whose directory or service.json changed (a new version): replaced, and restarted if they ran. */
  changed: string[];
}

export interface ServicesManager extends ServiceRegistryPort, ServiceControlPort {
  /** The `services` supervisor, as a child of the node's root; its children are the `service:<id>` actors. */
  readonly childSpec: ChildSpecInput;
  /** Discovers again: adds new services, replaces changed ones (a switched version), removes vanished ones. */
  rescan(signal?: AbortSignal): Promise<RescanReport>;
  /** Adds an extra service directory at run time, then rescans. */
  addServiceDir(dir: string, signal?: AbortSignal): Promise<RescanReport>;
  /** Stops a service and forgets it (an extra directory is dropped from the list; delete an installed one first). */
  removeService(id: string, signal?: AbortSignal): Promise<void>;
  /** Points `services/<id>/current` at `<version>` (§10.9 step 6), then rescans: the new version replaces the old. */
  switchVersion(id: string, version: string, signal?: AbortSignal): Promise<ServiceSnapshot>;
  /** Waits for pending pid-file writes and releases the health probe's connections. */
  close(): Promise<void>;
}

const SERVICES_SUPERVISOR_ID = 'services';
const LIVE_STATES = new Set<ServiceSnapshot['state']>(['starting', 'running', 'stopping']);
const NEVER = new AbortController().signal;

export function serviceChildId(serviceId: string): string {
  return `service:${serviceId}`;
}

/**
 * Reads the operator's persisted choices, kills what an earlier node run left behind, discovers the
 * services, and returns the manager. Nothing starts until `childSpec` runs under the node's root.
 */
export async function createServicesManager(input: Partial<ServicesOptions> & { dataDir: string }, deps: ServicesDeps): Promise<ServicesManager> {
  const options = resolveServicesOptions(input);
  const { bus, clock, stateFiles } = deps;
  const log = deps.logger.child({ actor: SERVICES_SUPERVISOR_ID });
  const servicesRoot = join(options.dataDir, 'services');
  const stateFile = join(options.dataDir, 'services-state.json');
  const extraDirs = options.extraServiceDirs.map((dir) => resolve(dir));
  const entries = new Map<string, ServiceEntry>();
  const portAllocator = createServicePortAllocator(deps.ports, log);
  let supervisor: AnyActorRef | undefined;
  let rescanning: Promise<unknown> = Promise.resolve();

  const book = createServiceProcessBook({ path: join(options.dataDir, 'run', 'service-processes.json'), stateFiles, processes: deps.processes, logger: log });
  await book.reapStale(NEVER);

  const enabledOverrides = await (async () => {
    const raw = await stateFiles.read(stateFile, NEVER).catch((err: unknown) => log.warn({ err }, 'unreadable services state; defaults used'));
    if (raw === undefined) return {} as Record<string, boolean>;
    const parsed = parseWith(ServicesStateFileSchema, raw, 'services state');
    if (!parsed.ok) log.warn({ err: parsed.error }, 'invalid services state; defaults used');
    return parsed.ok ? { ...parsed.value.enabled } : {};
  })();
  const enabledOf = (found: DiscoveredService) => enabledOverrides[found.id] ?? (found.result.ok ? found.result.manifest.enabled : true);

  const publish = (entry: ServiceEntry, reason?: string) => {
    const { state, type } = entry.snapshot;
    bus.publish({ type: 'service.statusChanged', serviceId: entry.id, serviceType: type, state, wireStatus: wireStatusOf(state), ...(reason !== undefined ? { reason } : {}) });
  };

  const applyView = (entry: ServiceEntry, view: ServiceLifecycleView) => {
    const previous = entry.snapshot;
    entry.snapshot = snapshotFromView(entry, view);
    if (!LIVE_STATES.has(view.state)) portAllocator.release(entry.id);
    if (view.state === 'running') entry.wantRunning = true;
    const stateChanged = previous.state !== view.state;
    const languagesChanged = !sameLanguages(previous.languages, entry.snapshot.languages);
    if (stateChanged) log.info({ serviceId: entry.id, from: previous.state, to: view.state, lastError: view.lastError }, 'service status changed');
    if (stateChanged || languagesChanged) {
      const failure = view.state === 'failed' || view.state === 'backoff' || view.state === 'error';
      publish(entry, failure ? view.lastError : stateChanged ? undefined : 'languages changed');
    }
    notifyWaiters(entry);
  };

  const attach = (entry: ServiceEntry, ref: AnyActorRef) => {
    entry.ref = ref;
    const subscription = ref.on('service.changed', (event: { view: ServiceLifecycleView }) => applyView(entry, event.view));
    return () => {
      subscription.unsubscribe();
      if (entry.ref === ref) entry.ref = undefined;
      portAllocator.release(entry.id);
      for (const gone of entry.onGone.splice(0)) gone();
    };
  };

  const childSpecFor = (entry: ServiceEntry): ChildSpecInput | undefined => {
    if (!entry.found.result.ok) return undefined;
    const manifest = entry.found.result.manifest;
    const policy = policyFor(manifest, options);
    const logic = serviceActorLogic(
      { manifest, dir: entry.found.dir, ...(entry.found.version !== undefined ? { version: entry.found.version } : {}) },
      {
        processes: deps.processes,
        health: deps.health,
        logger: deps.logger,
        maxLineChars: options.maxLineChars,
        allocatePort,
        onSpawned: (serviceId, handle) => book.recordSpawn(serviceId, handle),
        onExited: (serviceId, pid) => book.recordExit(serviceId, pid),
      },
    );
    return {
      id: serviceChildId(entry.id),
      logic,
      // Called at every (re)creation of the actor: it starts at once when it should be running.
      input: (): ServiceLifecycleInput => ({ serviceId: entry.id, policy, autoStart: entry.wantRunning, clock, ...(deps.random ? { random: deps.random } : {}) }),
      restart: 'permanent',
      maxRestarts: 3,
      withinMs: 60_000,
      minBackoffMs: 1_000,
      maxBackoffMs: 30_000,
      // The actor stops its process within stopTimeoutMs (SIGTERM, then SIGKILL); this is the margin.
      shutdownMs: policy.stopTimeoutMs + 2_000,
      attach: (ref) => attach(entry, ref),
    };
  };

  const allocatePort = (serviceId: string, signal: AbortSignal): Promise<number> => {
    const found = entries.get(serviceId)?.found;
    const declared = found?.result.ok ? found.result.manifest.port : undefined;
    return portAllocator.allocate(serviceId, options.portOverrides[serviceId] ?? declared, signal);
  };

  const requireEntry = (id: string): ServiceEntry => {
    const entry = entries.get(id);
    if (!entry) throw serviceNotFound(id);
    if (!entry.found.result.ok) {
      throw new KernelError('INVALID_SERVICE_JSON', `service "${id}" cannot run: ${entry.found.result.error}`, { details: { serviceId: id } });
    }
    return entry;
  };

  const requireRef = (entry: ServiceEntry): AnyActorRef => {
    if (!entry.ref) throw new KernelError('SERVICES_NOT_RUNNING', 'the services supervisor is not running', { retryable: true, details: { serviceId: entry.id } });
    return entry.ref;
  };

  const policyOf = (entry: ServiceEntry) => {
    if (!entry.found.result.ok) throw new KernelError('INVALID_SERVICE_JSON', `service "${entry.id}" cannot run: ${entry.found.result.error}`, { details: { serviceId: entry.id } });
    return policyFor(entry.found.result.manifest, options);
  };

  /** Resolves on `running`; rejects once the start began and ended in `error`. */
  const untilRunning = (entry: ServiceEntry, mustLeaveRunning: boolean) => {
    let began = false;
    return (snapshot: ServiceSnapshot): Verdict => {
      if (snapshot.state === 'running' && (began || !mustLeaveRunning)) return 'done';
      if (snapshot.state !== 'error' && snapshot.state !== 'running') began = true;
      if (snapshot.state === 'error' && began) {
        return new KernelError('SERVICE_FAILED', `service "${entry.id}" did not start: ${snapshot.lastError ?? 'unknown error'}`, { details: { serviceId: entry.id, lastError: snapshot.lastError } });
      }
      return undefined;
    };
  };

  const startAndWait = (entry: ServiceEntry, event: 'service.start' | 'service.restart', timeoutMs: number, signal: AbortSignal) => {
    const ref = requireRef(entry);
    entry.wantRunning = true;
    const waiting = waitForEntry(entry, {
      decide: untilRunning(entry, event === 'service.restart'),
      timeoutMs,
      onTimeout: () => new TimeoutError('SERVICE_START_TIMEOUT', `service "${entry.id}" not running within ${timeoutMs} ms`, { details: { serviceId: entry.id } }),
      clock,
      signal,
    });
    ref.send({ type: event });
    return waiting;
  };

  const stopAndWait = (entry: ServiceEntry, signal: AbortSignal) => {
    entry.wantRunning = false;
    if (entry.snapshot.state === 'stopped') return Promise.resolve(entry.snapshot);
    const ref = requireRef(entry);
    const timeoutMs = policyOf(entry).stopTimeoutMs + 5_000;
    const waiting = waitForEntry(entry, {
      decide: (s) => (s.state === 'stopped' ? 'done' : undefined),
      timeoutMs,
      onTimeout: () => new TimeoutError('SERVICE_STOP_TIMEOUT', `service "${entry.id}" not stopped within ${timeoutMs} ms`, { details: { serviceId: entry.id } }),
      clock,
      signal,
    });
    ref.send({ type: 'service.stop' });
    return waiting;
  };

  /** Bound of an operator's start: a stop in progress, then a full start. */
  const startBoundMs = (entry: ServiceEntry) => policyOf(entry).startupTimeoutMs + policyOf(entry).stopTimeoutMs + 5_000;

  const persistEnabled = () => stateFiles.write(stateFile, { enabled: enabledOverrides }, { mode: 'durable' }, NEVER);

  /** Stops the actor of `entry` for good and waits until the supervisor has removed it. */
  const retire = async (entry: ServiceEntry): Promise<void> => {
    if (!supervisor) {
      entry.ref = undefined;
      return;
    }
    // Also without a live actor (between two incarnations) the spec must go, or a new spec with the
    // same id would be ignored.
    const gone = entry.ref ? new Promise<void>((resolve) => entry.onGone.push(resolve)) : Promise.resolve();
    supervisor.send({ type: 'supervisor.terminateChild', id: serviceChildId(entry.id) });
    await gone;
  };

  const spawnChild = (entry: ServiceEntry) => {
    const spec = childSpecFor(entry);
    if (spec && supervisor) supervisor.send({ type: 'supervisor.startChild', spec });
  };

  const scan = () => deps.directory.scan({ servicesRoot, extraDirs }, NEVER);

  const scanById = async () => {
    const { services, shadowed } = oneServicePerId(await scan());
    for (const s of shadowed) log.warn({ serviceId: s.id, kept: s.kept, ignored: s.ignored }, 'two services with one id; the extra directory wins');
    return services;
  };

  /** Stops a service for good and drops it from the registry; the bus hears it as stopped, `removed`. */
  const forget = async (entry: ServiceEntry) => {
    await retire(entry);
    entries.delete(entry.id);
    rejectWaiters(entry, serviceNotFound(entry.id));
    entry.snapshot = { ...entry.snapshot, state: 'stopped' };
    publish(entry, 'removed');
  };

  const rescanNow = async (): Promise<RescanReport> => {
    const found = await scanById();
    const report: RescanReport = { added: [], removed: [], changed: [] };
    for (const [id, entry] of [...entries]) {
      if (found.has(id)) continue;
      await forget(entry);
      report.removed.push(id);
    }
    for (const [id, f] of found) {
      const entry = entries.get(id);
      if (!entry) {
        const fresh = createEntry(f, enabledOf(f));
        entries.set(id, fresh);
        publish(fresh, fresh.snapshot.lastError);
        spawnChild(fresh);
        report.added.push(id);
        continue;
      }
      if (sameDiscovery(entry.found, f)) continue;
      const wasRunning = entry.wantRunning || entry.snapshot.state === 'running';
      await retire(entry);
      const replaced = createEntry(f, enabledOf(f));
      entry.found = replaced.found;
      entry.snapshot = replaced.snapshot;
      entry.wantRunning = f.result.ok && (replaced.wantRunning || wasRunning);
      publish(entry, entry.snapshot.lastError ?? 'replaced');
      notifyWaiters(entry);
      spawnChild(entry);
      report.changed.push(id);
    }
    if (report.added.length + report.removed.length + report.changed.length > 0) log.info({ ...report }, 'services rediscovered');
    return report;
  };

  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = rescanning.then(work, work);
    rescanning = next.catch(() => undefined);
    return next;
  };

  for (const [id, f] of await scanById()) entries.set(id, createEntry(f, enabledOf(f)));

  const childSpec: ChildSpecInput = {
    id: SERVICES_SUPERVISOR_ID,
    logic: supervisorMachine,
    input: (): SupervisorInput => ({
      id: SERVICES_SUPERVISOR_ID,
      strategy: 'one_for_one',
      clock,
      ...(deps.random ? { random: deps.random } : {}),
      children: [...entries.values()].flatMap((entry) => childSpecFor(entry) ?? []),
    }),
    restart: 'permanent',
    shutdownMs: options.shutdownTimeoutMs,
    attach: (ref) => {
      supervisor = ref;
      return () => {
        if (supervisor === ref) supervisor = undefined;
        // The whole `services` subtree is gone (node stop, or an escalation): its processes were
        // killed with their actors, whatever the last views said.
        for (const entry of entries.values()) {
          entry.ref = undefined;
          portAllocator.release(entry.id);
          if (LIVE_STATES.has(entry.snapshot.state) || entry.snapshot.state === 'failed' || entry.snapshot.state === 'backoff') {
            applyView(entry, { state: 'stopped', ...(entry.snapshot.lastError !== undefined ? { lastError: entry.snapshot.lastError } : {}) });
          }
        }
      };
    },
  };

  const manager: ServicesManager = {
    childSpec,
    list: () => [...entries.values()].map((e) => e.snapshot),
    get: (id) => entries.get(id)?.snapshot,
    async start(id, signal) {
      const entry = requireEntry(id);
      return startAndWait(entry, 'service.start', startBoundMs(entry), signal);
    },
    async stop(id, signal) {
      return stopAndWait(requireEntry(id), signal);
    },
    async restart(id, signal) {
      const entry = requireEntry(id);
      return startAndWait(entry, 'service.restart', startBoundMs(entry), signal);
    },
    async setEnabled(id, enabled, signal) {
      const entry = entries.get(id);
      if (!entry) throw serviceNotFound(id);
      enabledOverrides[id] = enabled;
      await persistEnabled();
      entry.snapshot = { ...entry.snapshot, enabled };
      notifyWaiters(entry);
      if (!entry.found.result.ok) return entry.snapshot;
      // Enabled means "runs whenever the node runs": enabling starts it, disabling stops it.
      return enabled ? manager.start(id, signal) : manager.stop(id, signal);
    },
    async ensureRunning(id, signal) {
      const entry = requireEntry(id);
      if (entry.snapshot.state === 'running') return entry.snapshot;
      if (!entry.snapshot.enabled) throw new KernelError('SERVICE_DISABLED', `service "${id}" is disabled`, { details: { serviceId: id } });
      if (entry.snapshot.state === 'error') {
        throw new KernelError('SERVICE_FAILED', `service "${id}" is in error: ${entry.snapshot.lastError ?? 'unknown error'}`, { details: { serviceId: id, lastError: entry.snapshot.lastError } });
      }
      return startAndWait(entry, 'service.start', entry.snapshot.startupTimeoutMs, signal);
    },
    rescan: (signal = NEVER) => serialized(async () => {
      if (signal.aborted) throw new KernelError('ABORTED', 'rescan aborted');
      return rescanNow();
    }),
    addServiceDir: (dir, signal = NEVER) => {
      if (!extraDirs.includes(resolve(dir))) extraDirs.push(resolve(dir));
      return manager.rescan(signal);
    },
    removeService: (id) =>
      serialized(async () => {
        const entry = entries.get(id);
        if (!entry) throw serviceNotFound(id);
        const extraIndex = extraDirs.indexOf(entry.found.dir);
        if (entry.found.source === 'extra' && extraIndex >= 0) extraDirs.splice(extraIndex, 1);
        await forget(entry);
      }),
    async switchVersion(id, version, signal = NEVER) {
      await deps.directory.setCurrent(servicesRoot, id, version, signal);
      await manager.rescan(signal);
      const snapshot = entries.get(id)?.snapshot;
      if (!snapshot) throw serviceNotFound(id);
      return snapshot;
    },
    async close() {
      await book.flush();
      await deps.health.close();
    },
  };
  return manager;
}
