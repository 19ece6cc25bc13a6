/**
 * The node's package manager (ARCHITECTURE.md: `packages`). Runs install / use / uninstall
 * operations: serialized per service (two installs of one service never overlap; different
 * services run in parallel), each install as a `packageInstallMachine` actor on the injected clock.
 * Every change is announced on the bus (`package.installed`, `package.uninstalled`,
 * `package.failed`, throttled `package.progress`), which the heartbeat debouncer listens to
 * (PROTOCOL.md §10.9 step 9). Operations are also kept as records (bounded) for the control endpoint.
 */
import { createActor, fromPromise, toPromise } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import { sleep } from '../../kernel/clock.js';
import type { Clock } from '../../kernel/clock.js';
import { ConfigError, KernelError, toKernelError } from '../../kernel/errors.js';
import type { KernelErrorLike } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { PackageRecovery } from '../../kernel/ports/package-store.port.js';
import type { ChildSpecInput } from '../../kernel/supervision.js';
import { packageManagerMachine } from '../../machines/package-manager.machine.js';
import { isSemVer, isSemVerOrLatest } from '../../protocol/hub-api.schema.js';
import { SERVICE_ID_PATTERN } from '../../protocol/ids.js';
import type { AvailablePackage, InstalledPackage, PackageOperation, PackageOperationKind, PackagePhase } from '../../protocol/package-control.schema.js';
import { compareVersionsDesc } from '../../protocol/version-order.js';
import { installLogic } from './package-install.actor.js';
import type { PackagePorts, ProgressReporter } from './package-install.actor.js';
import { DEFAULT_PACKAGE_MANAGER_OPTIONS, PackageManagerOptionsSchema } from './package-manager.options.js';
import type { PackageManagerOptions } from './package-manager.options.js';

export { DEFAULT_PACKAGE_MANAGER_OPTIONS } from './package-manager.options.js';
export type { PackageManagerOptions } from './package-manager.options.js';

/** Smallest progress step published on the bus, in bytes. */
const PROGRESS_STEP_MIN_BYTES = 1024 * 1024;

export interface PackageManagerDeps {
  ports: PackagePorts;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** Jitter source of the download retry backoff, in [0, 1). */
  random?: () => number;
}

export interface PackageOperationOptions {
  /** Cancels the operation (an install rolls back or discards what it did). */
  signal?: AbortSignal;
}

export interface PackageManager {
  /** Repairs what a crash left (staging directories, half-done switches). Call before the services supervisor's first scan. */
  recover(signal?: AbortSignal): Promise<PackageRecovery>;
  /** Installs `serviceId@version` (default `latest_version`) and makes it active; rejects with the failure's KernelError. */
  install(serviceId: string, version?: string, options?: PackageOperationOptions): Promise<PackageOperation>;
  /** Makes an installed version active. */
  use(serviceId: string, version: string, options?: PackageOperationOptions): Promise<PackageOperation>;
  /** Removes one version, or the whole service when `version` is undefined. */
  uninstall(serviceId: string, version?: string, options?: PackageOperationOptions): Promise<PackageOperation>;
  /** Starts an operation and returns its record at once (for the control endpoint). */
  begin(kind: PackageOperationKind, serviceId: string, version?: string): PackageOperation;
  operation(operationId: string): PackageOperation | undefined;
  list(signal?: AbortSignal): Promise<InstalledPackage[]>;
  available(signal?: AbortSignal): Promise<AvailablePackage[]>;
  /** Cancels running operations and waits for them, at most `closeTimeoutMs`. Idempotent. */
  close(): Promise<void>;
}

interface OperationRecord {
  operation: PackageOperation;
  controller: AbortController;
  done: Promise<PackageOperation>;
  error?: KernelErrorLike;
}

function invalid(message: string): KernelError {
  return new KernelError('INVALID_PARAMETER', message);
}

export function createPackageManager(deps: PackageManagerDeps, overrides: Partial<PackageManagerOptions> = {}): PackageManager {
  const parsed = PackageManagerOptionsSchema.safeParse({ ...DEFAULT_PACKAGE_MANAGER_OPTIONS, ...overrides });
  if (!parsed.success) throw new ConfigError(`invalid package manager options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const options: PackageManagerOptions = parsed.data;
  const { ports, bus, clock } = deps;
  const log = deps.logger.child({ actor: 'packages' });
  const records = new Map<string, OperationRecord>();
  /** Tail of each service's queue: the next operation of that service starts after it. */
  const tails = new Map<string, Promise<void>>();
  let sequence = 0;
  let closing: Promise<void> | undefined;
  const nowIso = () => new Date(clock.now()).toISOString();
  const pending = () => [...records.values()].filter((r) => r.operation.state === 'running').length;

  function evictFinished(): void {
    const finished = [...records.values()].filter((r) => r.operation.state !== 'running');
    for (const r of finished.slice(0, Math.max(0, finished.length - options.maxFinishedOperations))) records.delete(r.operation.operation_id);
  }

  /** Progress of one operation: never backwards within a phase; on the bus at most every 1 % (or 1 MiB). */
  function reporterFor(record: OperationRecord): ProgressReporter {
    let published = -1;
    return (phase: PackagePhase, bytesDone: number, bytesTotal: number) => {
      const op = record.operation;
      if (op.phase !== phase) {
        op.phase = phase;
        op.bytes_done = 0;
        published = -1;
      }
      op.bytes_done = Math.max(op.bytes_done, bytesDone);
      op.bytes_total = bytesTotal;
      const step = Math.max(PROGRESS_STEP_MIN_BYTES, bytesTotal / 100);
      if (published < 0 || op.bytes_done - published >= step || (op.bytes_done >= bytesTotal && published < bytesTotal)) {
        published = op.bytes_done;
        bus.publish({ type: 'package.progress', serviceId: op.service_id, version: op.version ?? '', phase, bytesDone: op.bytes_done, bytesTotal });
      }
    };
  }

  async function runInstall(record: OperationRecord, mode: 'install' | 'use'): Promise<void> {
    const op = record.operation;
    const report = reporterFor(record);
    const actor = createActor(installLogic({ ports, options, report, log, clock }), {
      clock,
      input: {
        serviceId: op.service_id,
        ...(op.version !== undefined ? { version: op.version } : {}),
        mode,
        retry: { maxRetries: options.downloadRetries, minMs: options.retryMinMs, maxMs: options.retryMaxMs },
        activationTimeoutMs: options.activationTimeoutMs,
        ...(deps.random ? { random: deps.random } : {}),
      },
    });
    actor.on('install.phase', (event) => report(event.phase, 0, 0));
    actor.subscribe({ error: (err) => log.error({ err, serviceId: op.service_id }, 'install actor failed') });
    const cancel = () => actor.send({ type: 'install.cancel' });
    record.controller.signal.addEventListener('abort', cancel, { once: true });
    actor.start();
    try {
      const output = await toPromise(actor);
      if (output.version !== undefined) op.version = output.version;
      if (!output.ok) throw output.error;
      op.outcome = output.outcome;
      if (output.outcome !== 'unchanged') bus.publish({ type: 'package.installed', serviceId: op.service_id, version: output.version });
    } finally {
      record.controller.signal.removeEventListener('abort', cancel);
      actor.stop();
    }
  }

  async function runUninstall(record: OperationRecord): Promise<void> {
    const op = record.operation;
    const signal = record.controller.signal;
    const report = reporterFor(record);
    const installed = (await ports.store.listInstalled(signal)).find((s) => s.serviceId === op.service_id);
    if (!installed) throw new KernelError('NOT_INSTALLED', `${op.service_id} is not installed`);
    if (op.version !== undefined && !installed.versions.includes(op.version)) throw new KernelError('VERSION_NOT_INSTALLED', `${op.service_id}@${op.version} is not installed`);
    const targets = op.version !== undefined ? [op.version] : [...installed.versions];
    const busy = targets.filter((v) => ports.activation.inUseVersions(op.service_id).has(v));
    if (busy.length > 0) throw new KernelError('PACKAGE_IN_USE', `${op.service_id}@${busy.join(', ')} is used by a running job`, { retryable: true, details: { versions: busy } });
    report('remove', 0, targets.length);
    const removingCurrent = installed.current !== undefined && targets.includes(installed.current);
    const next = installed.versions.filter((v) => !targets.includes(v)).sort(compareVersionsDesc)[0];
    if (removingCurrent) {
      // Stopped first, then `current` moves (or goes), then the files: no running process ever
      // loses its directory, and a crash leaves `current` naming an existing version or nothing.
      await ports.activation.deactivate(op.service_id, signal);
      await ports.store.switchCurrent(op.service_id, next, signal);
    }
    for (const [index, version] of targets.entries()) {
      await ports.store.removeVersion(op.service_id, version, signal);
      bus.publish({ type: 'package.uninstalled', serviceId: op.service_id, version });
      report('remove', index + 1, targets.length);
    }
    op.outcome = 'uninstalled';
    if (removingCurrent && next !== undefined) {
      report('start', 0, 1);
      await ports.activation.activate(op.service_id, next, signal);
      report('start', 1, 1);
    }
  }

  function begin(kind: PackageOperationKind, serviceId: string, version?: string): PackageOperation {
    if (closing) throw new KernelError('SHUTTING_DOWN', 'the package manager is closing', { retryable: true });
    if (!SERVICE_ID_PATTERN.test(serviceId)) throw invalid(`"${serviceId}" is not a service id`);
    if (version !== undefined && (kind === 'install' ? !isSemVerOrLatest(version) : !isSemVer(version))) throw invalid(`"${version}" is not a ${kind === 'install' ? 'SemVer version or latest' : 'SemVer version'}`);
    if (kind === 'use' && version === undefined) throw invalid('use needs a version');
    if (pending() >= options.maxPendingOperations) throw new KernelError('TOO_MANY_OPERATIONS', `${options.maxPendingOperations} package operations are already pending`, { retryable: true });
    const operation: PackageOperation = {
      operation_id: `op-${++sequence}`,
      kind,
      service_id: serviceId,
      ...(version !== undefined && version !== 'latest' ? { version } : {}),
      state: 'running',
      bytes_done: 0,
      bytes_total: 0,
      started_at: nowIso(),
    };
    const record: OperationRecord = { operation, controller: new AbortController(), done: Promise.resolve(operation) };
    const previous = tails.get(serviceId) ?? Promise.resolve();
    record.done = previous.then(async () => {
      try {
        if (record.controller.signal.aborted) throw new KernelError('ABORTED', 'the package operation was cancelled');
        if (kind === 'uninstall') await runUninstall(record);
        else await runInstall(record, kind);
        operation.state = 'succeeded';
        log.info({ kind, serviceId, version: operation.version, outcome: operation.outcome }, 'package operation succeeded');
      } catch (err) {
        const error = toKernelError(err);
        record.error = error;
        operation.state = 'failed';
        operation.error = { code: error.code, message: error.message };
        log.warn({ kind, serviceId, version: operation.version, code: error.code, err: error }, 'package operation failed');
        bus.publish({ type: 'package.failed', serviceId, version: operation.version ?? version ?? '', code: error.code, message: error.message });
      }
      operation.finished_at = nowIso();
      evictFinished();
      return operation;
    });
    const tail = record.done.then(() => undefined);
    tails.set(serviceId, tail);
    void tail.then(() => {
      if (tails.get(serviceId) === tail) tails.delete(serviceId);
    });
    records.set(operation.operation_id, record);
    return { ...operation };
  }

  async function settle(kind: PackageOperationKind, serviceId: string, version: string | undefined, opts: PackageOperationOptions): Promise<PackageOperation> {
    const { operation_id } = begin(kind, serviceId, version);
    const record = records.get(operation_id) as OperationRecord;
    const onAbort = () => record.controller.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    try {
      const operation = await record.done;
      if (record.error) throw record.error;
      return { ...operation };
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    recover: (signal = new AbortController().signal) => ports.store.recover(signal),
    install: (serviceId, version, opts = {}) => settle('install', serviceId, version, opts),
    use: (serviceId, version, opts = {}) => settle('use', serviceId, version, opts),
    uninstall: (serviceId, version, opts = {}) => settle('uninstall', serviceId, version, opts),
    begin,
    operation(operationId) {
      const record = records.get(operationId);
      return record ? { ...record.operation } : undefined;
    },
    async list(signal = new AbortController().signal) {
      return (await ports.store.listInstalled(signal)).map((s) => ({
        service_id: s.serviceId,
        ...(s.current !== undefined ? { active_version: s.current } : {}),
        versions: [...s.versions].sort(compareVersionsDesc),
      }));
    },
    async available(signal = new AbortController().signal) {
      const [services, installed] = await Promise.all([ports.hub.listServices(signal), ports.store.listInstalled(signal)]);
      const local = new Map(installed.map((s) => [s.serviceId, s]));
      return services.map((s) => {
        const mine = local.get(s.service_id);
        return {
          service_id: s.service_id,
          service_name: s.service_name,
          ...(s.type !== undefined ? { type: s.type } : {}),
          latest_version: s.latest_version,
          versions: s.versions.map((v) => v.version),
          installed_versions: [...(mine?.versions ?? [])].sort(compareVersionsDesc),
          ...(mine?.current !== undefined ? { active_version: mine.current } : {}),
        };
      });
    },
    close() {
      closing ??= (async () => {
        const running = [...records.values()].filter((r) => r.operation.state === 'running');
        for (const r of running) r.controller.abort();
        const stop = new AbortController();
        await Promise.race([Promise.allSettled(running.map((r) => r.done)), sleep(clock, options.closeTimeoutMs, stop.signal).catch(() => undefined)]);
        stop.abort();
      })();
      return closing;
    },
  };
}

/**
 * The supervisor child of the node tree (`packages`): recovers at start, closes the manager on
 * `supervisor.shutdown`. Start it before the services supervisor, so the first scan sees the
 * repaired `current` pointers.
 */
export function packagesChildSpec(manager: PackageManager, logger: Logger): ChildSpecInput {
  const log = logger.child({ actor: 'packages' });
  return {
    id: 'packages',
    systemId: 'packages',
    restart: 'permanent',
    logic: packageManagerMachine.provide({
      actors: {
        recover: fromPromise(async ({ signal }) => {
          const recovery = await manager.recover(signal);
          if (recovery.removedStaging.length > 0 || recovery.reverted.length > 0) log.warn({ recovery }, 'repaired an interrupted package operation');
        }),
        close: fromPromise(() => manager.close()),
      },
    }),
    attach: (ref) => {
      const sub = ref.on('packages.recoveryFailed', (event: { code: string; message: string }) => log.error({ code: event.code }, event.message));
      return () => sub.unsubscribe();
    },
  };
}

