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
 *
 * A running service whose directory changes (a new version made current) is switched with no gap
 * (service-switch.ts): the new version runs next to the old one until it is healthy, then takes
 * its place in the registry. Only the registry's entry of a service publishes on the bus. Changes
 * to the set of services (rescans, activations, removals) run one at a time.
 */
import { join, resolve } from 'node:path';
import type { AnyActorRef } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import { AbortedError, KernelError, TimeoutError } from '../../kernel/errors.js';
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
import { createEntry, moveWaiters, notifyWaiters, rejectWaiters, sameLanguages, serviceChildId, serviceNotFound, snapshotFromView, startVerdict, versionOf, waitForEntry } from './service-entries.js';
import type { ServiceEntry } from './service-entries.js';
import { oneServicePerId, sameDiscovery } from './service-discovery.js';
import { createServicePortAllocator } from './service-ports.js';
import { createServiceProcessBook } from './service-process-book.js';
import { serviceActorLogic } from './service.actor.js';
import { switchWithoutGap } from './service-switch.js';
import type { ServiceSwitchSteps } from './service-switch.js';
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
  /**
   * Points `services/<id>/current` at `<version>` (§10.9 step 6), then brings the service in line:
   * a running service switches with no gap (rejects, the old version still serving, when the new
   * one does not start); a stopped one is only replaced.
   */
  switchVersion(id: string, version: string, signal?: AbortSignal): Promise<ServiceSnapshot>;
  /**
   * The package manager's activation (§10.9 step 7): `services/<id>/current` names `version`; makes
   * it the running version (with no gap when another runs) and resolves once it is `running`.
   * Rejects when it fails to start, crashes at start or is not healthy in time; a version switch
   * that fails leaves the old version serving. A disabled service is switched but not started.
   */
  activate(id: string, version: string, signal: AbortSignal): Promise<ServiceSnapshot>;
  /** Stops the service (whatever version runs) and resolves once it is stopped; at once when it is unknown. */
  deactivate(id: string, signal: AbortSignal): Promise<void>;
  /** Brings one service in line with the disk (after its package files changed): added, switched, replaced or forgotten. */
  refresh(id: string, signal?: AbortSignal): Promise<void>;
  /** Waits for pending pid-file writes and releases the health probe's connections. */
  close(): Promise<void>;
}

const SERVICES_SUPERVISOR_ID = 'services';
const LIVE_STATES = new Set<ServiceSnapshot['state']>(['starting', 'running', 'stopping']);
const NEVER = new AbortController().signal;

export { serviceChildId } from './service-entries.js';

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

  /** Whether `entry` is the registry's entry of its service (not a new version still starting, nor a replaced one). */
  const isListed = (entry: ServiceEntry) => entries.get(entry.id) === entry;

  const applyView = (entry: ServiceEntry, view: ServiceLifecycleView) => {
    const previous = entry.snapshot;
    entry.snapshot = snapshotFromView(entry, view);
    if (!LIVE_STATES.has(view.state)) portAllocator.release(entry.childId);
    if (view.state === 'running') entry.wantRunning = true;
    const stateChanged = previous.state !== view.state;
    const languagesChanged = !sameLanguages(previous.languages, entry.snapshot.languages);
    if (stateChanged) log.info({ serviceId: entry.id, actor: entry.childId, from: previous.state, to: view.state, lastError: view.lastError }, 'service status changed');
    // Only the registry's entry speaks for the service: the bus never hears about a version that is
    // still starting next to the running one, nor about the old one stopping after a switch.
    if (isListed(entry) && (stateChanged || languagesChanged)) {
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
      portAllocator.release(entry.childId);
      for (const gone of entry.onGone.splice(0)) gone();
    };
  };

  const childSpecFor = (entry: ServiceEntry): ChildSpecInput | undefined => {
    if (!entry.found.result.ok) return undefined;
    const manifest = entry.found.result.manifest;
    const policy = policyFor(manifest, options);
    // The reservation is this actor's: during a switch the old and the new version each hold one.
    const preferredPort = options.portOverrides[entry.id] ?? manifest.port;
    const logic = serviceActorLogic(
      { manifest, dir: entry.found.dir, ...(entry.found.version !== undefined ? { version: entry.found.version } : {}) },
      {
        processes: deps.processes,
        health: deps.health,
        logger: deps.logger,
        maxLineChars: options.maxLineChars,
        allocatePort: (_serviceId, signal) => portAllocator.allocate(entry.childId, preferredPort, signal),
        onSpawned: (serviceId, handle) => book.recordSpawn(serviceId, handle),
        onExited: (serviceId, pid) => book.recordExit(serviceId, pid),
      },
    );
    return {
      id: entry.childId,
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

  const startAndWait = (entry: ServiceEntry, event: 'service.start' | 'service.restart', timeoutMs: number, signal: AbortSignal, failOn: 'error' | 'crash' = 'error') => {
    const ref = requireRef(entry);
    entry.wantRunning = true;
    const waiting = waitForEntry(entry, {
      decide: startVerdict(entry.id, { mustLeaveRunning: event === 'service.restart', failOn }),
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
    supervisor.send({ type: 'supervisor.terminateChild', id: entry.childId });
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

  /** A service found for the first time: listed, announced, and its actor started (it starts its process when enabled). */
  const add = (f: DiscoveredService): ServiceEntry => {
    const fresh = createEntry(f, enabledOf(f));
    entries.set(f.id, fresh);
    publish(fresh, fresh.snapshot.lastError);
    spawnChild(fresh);
    return fresh;
  };

  let switches = 0;
  const switchSteps: ServiceSwitchSteps = {
    spawn: spawnChild,
    retire,
    clock,
    promote(previous, next) {
      entries.set(next.id, next);
      log.info({ serviceId: next.id, from: previous.snapshot.version, to: next.snapshot.version, baseUrl: next.snapshot.baseUrl }, 'service switched to its new version with no gap');
      publish(next, 'version switched');
      moveWaiters(previous, next);
    },
  };

  /**
   * `entry`'s directory or service.json changed. A running service switches with no gap (rejects,
   * still serving the old version, when the new one does not start); any other is stopped and
   * replaced, and started again if it ran or should run.
   */
  const replace = async (entry: ServiceEntry, f: DiscoveredService, signal: AbortSignal): Promise<void> => {
    if (entry.snapshot.state === 'running' && f.result.ok && enabledOf(f) && supervisor) {
      const version = versionOf(f);
      // Unique among the live children: the same version in another directory gets a suffix.
      const childId = serviceChildId(entry.id, version) === entry.childId ? `${serviceChildId(entry.id, version)}#${++switches}` : serviceChildId(entry.id, version);
      const next = createEntry(f, true, childId);
      next.wantRunning = true;
      const policy = policyFor(f.result.manifest, options);
      await switchWithoutGap(entry, next, switchSteps, { startBoundMs: policy.startupTimeoutMs + policy.stopTimeoutMs + 5_000, drainMs: options.switchDrainMs }, signal);
      return;
    }
    const wasRunning = entry.wantRunning || entry.snapshot.state === 'running';
    await retire(entry);
    const replaced = createEntry(f, enabledOf(f));
    replaced.wantRunning = f.result.ok && (replaced.wantRunning || wasRunning);
    entries.set(entry.id, replaced);
    publish(replaced, replaced.snapshot.lastError ?? 'replaced');
    moveWaiters(entry, replaced);
    spawnChild(replaced);
  };

  /** Brings the registry's entry of `id` in line with what the disk holds for it (`f`, or nothing). */
  const reconcile = async (id: string, f: DiscoveredService | undefined, signal: AbortSignal): Promise<keyof RescanReport | undefined> => {
    const entry = entries.get(id);
    if (!f) {
      if (!entry) return undefined;
      await forget(entry);
      return 'removed';
    }
    if (!entry) {
      add(f);
      return 'added';
    }
    if (sameDiscovery(entry.found, f)) return undefined;
    await replace(entry, f, signal);
    return 'changed';
  };

  const rescanNow = async (): Promise<RescanReport> => {
    const found = await scanById();
    const report: RescanReport = { added: [], removed: [], changed: [] };
    for (const id of [...entries.keys()].filter((id) => !found.has(id))) {
      if ((await reconcile(id, undefined, NEVER)) === 'removed') report.removed.push(id);
    }
    for (const [id, f] of found) {
      try {
        const outcome = await reconcile(id, f, NEVER);
        if (outcome) report[outcome].push(id);
      } catch (err) {
        // The new version did not start: the running one stays, and the next rescan tries again.
        log.warn({ serviceId: id, err }, 'new version of a running service did not start; the running version stays');
      }
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
      return serialized(async () => {
        await reconcile(id, (await scanById()).get(id), signal);
        const snapshot = entries.get(id)?.snapshot;
        if (!snapshot) throw serviceNotFound(id);
        return snapshot;
      });
    },
    activate: (id, version, signal) =>
      serialized(async () => {
        if (signal.aborted) throw new AbortedError('activation aborted');
        if (!supervisor) throw new KernelError('SERVICES_NOT_RUNNING', 'the services supervisor is not running', { retryable: true, details: { serviceId: id } });
        const f = (await scanById()).get(id);
        if (!f) throw serviceNotFound(id);
        if (f.source !== 'installed' || f.version !== version) {
          // A development directory of the same id wins over the installed one (oneServicePerId).
          throw new KernelError('SERVICE_VERSION_NOT_CURRENT', `service "${id}" runs ${f.source === 'extra' ? `from ${f.dir}` : `version ${f.version ?? 'unknown'}`}, not the installed ${version}`, {
            details: { serviceId: id, version, found: f.version, source: f.source },
          });
        }
        if (!f.result.ok) throw new KernelError('INVALID_SERVICE_JSON', `service "${id}" cannot run: ${f.result.error}`, { details: { serviceId: id, version } });
        await reconcile(id, f, signal);
        const entry = requireEntry(id);
        if (!entry.snapshot.enabled || entry.snapshot.state === 'running') return entry.snapshot;
        return startAndWait(entry, 'service.start', startBoundMs(entry), signal, 'crash');
      }),
    deactivate: (id, signal) =>
      serialized(async () => {
        const entry = entries.get(id);
        if (!entry) return;
        if (!entry.ref) {
          entry.wantRunning = false;
          return;
        }
        await stopAndWait(entry, signal);
      }),
    refresh: (id, signal = NEVER) =>
      serialized(async () => {
        await reconcile(id, (await scanById()).get(id), signal);
      }),
    async close() {
      await book.flush();
      await deps.health.close();
    },
  };
  return manager;
}
