/**
 * Composition of the node's packages (ARCHITECTURE.md flow 4) for `startNodeRole`: the package
 * manager over the real adapters, the `packages` child of the node's root, the package routes of the
 * control endpoint (`linguamesh pkg`), and the activation port over the services runtime.
 *
 *   const packages = await createPackagesRuntime({ hubUrl, servicesDir, bus, clock, logger });
 *   // recovery is done: the services' first scan sees the repaired `current` pointers
 *   const services = await createServicesRuntime({ dataDir, bus, clock, logger });
 *   packages.bind(services.manager, (id) => jobs.inUseVersions(id));
 *
 * Order matters at start: a crash in the middle of a switch leaves `current` naming a version that
 * was never confirmed, and recovery points it back to the previous one. So recovery runs here, before
 * the services manager scans for the first time; the `packages` child then starts from that result.
 */
import { DEFAULT_PACKAGE_MANAGER_OPTIONS, packagesChildSpec } from '../actors/node/package-manager.actor.js';
import type { PackageManager } from '../actors/node/package-manager.actor.js';
import { packageRoutes } from '../actors/node/package.routes.js';
import { createServiceActivation } from '../actors/node/service-activation.js';
import type { ServiceActivation } from '../actors/node/service-activation.js';
import type { ServicesManager } from '../actors/node/services.actor.js';
import type { Bus } from '../kernel/bus.js';
import type { Clock } from '../kernel/clock.js';
import { KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { HttpRoute } from '../kernel/ports/http.port.js';
import type { ServiceActivationPort } from '../kernel/ports/service-activation.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';
import { createNodePackageManager } from './package-manager.js';
import type { NodePackageManagerDeps, NodePackageManagerOptions } from './package-manager.js';

export interface PackagesRuntimeOptions extends NodePackageManagerOptions {
  bus: Bus;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  /** Test seams of the package manager (a full disk, an observed hub). */
  disk?: NodePackageManagerDeps['disk'];
  hub?: NodePackageManagerDeps['hub'];
}

export interface PackagesRuntime {
  manager: PackageManager;
  /** The `packages` child: to run before the services supervisor, which it activates services through. */
  children: ChildSpecInput[];
  /** `/api/packages…` for the node's control endpoint. */
  routes: HttpRoute[];
  /** Connects the activation port to the services runtime and the jobs (call once, before the tree starts). */
  bind(services: ServicesManager, inUseVersions: (serviceId: string) => ReadonlySet<string>): void;
  /** After the tree has stopped: drops the activation's bus subscriptions. */
  close(): void;
}

/** Margin of the `packages` child's shutdown over the manager's own close bound, in ms. */
const SHUTDOWN_MARGIN_MS = 2_000;

export async function createPackagesRuntime(options: PackagesRuntimeOptions): Promise<PackagesRuntime> {
  const { bus, clock, logger, random, disk, hub, ...managerOptions } = options;
  let bound: ServiceActivation | undefined;
  const activation = (): ServiceActivation => {
    if (!bound) throw new KernelError('SERVICES_NOT_RUNNING', 'package activation is not connected to the services runtime', { retryable: true });
    return bound;
  };
  // Bound to the services runtime once that exists, which is after recovery (see the module comment).
  const port: ServiceActivationPort = {
    activate: (serviceId, version, signal) => activation().activate(serviceId, version, signal),
    deactivate: (serviceId, signal) => activation().deactivate(serviceId, signal),
    inUseVersions: (serviceId) => bound?.inUseVersions(serviceId) ?? new Set(),
  };
  const manager = createNodePackageManager(managerOptions, {
    activation: port,
    bus,
    clock,
    logger,
    ...(random ? { random } : {}),
    ...(disk ? { disk } : {}),
    ...(hub ? { hub } : {}),
  });
  const recovery = await manager.recover().catch(async (err: unknown) => {
    await manager.close();
    throw err;
  });
  // The child's recovery step reports (logs) this result instead of repairing a second time.
  const recovered: PackageManager = { ...manager, recover: () => Promise.resolve(recovery) };
  const child = packagesChildSpec(recovered, logger);
  return {
    manager,
    children: [{ ...child, shutdownMs: (managerOptions.closeTimeoutMs ?? DEFAULT_PACKAGE_MANAGER_OPTIONS.closeTimeoutMs) + SHUTDOWN_MARGIN_MS }],
    routes: packageRoutes(manager),
    bind(services, inUseVersions) {
      bound?.dispose();
      bound = createServiceActivation({ services, bus, logger, inUseVersions });
    },
    close() {
      bound?.dispose();
    },
  };
}
