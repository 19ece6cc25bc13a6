/**
 * Composition of the node's services (hot-plug) for `startNode`: the real adapters behind the
 * services manager, the `services` supervisor as a child of the node's root, and the control routes
 * for the node's loopback HTTP server.
 *
 *   const services = await createServicesRuntime({ dataDir, extraServiceDirs, bus, clock, logger });
 *   bootSystem({ root: { id: 'node', strategy: 'one_for_one', children: [...services.children] } });
 *   startHttpServer({ port: 5020, routes: [...services.routes] });
 *   …at stop: await system.stop(); await services.close();
 */
import { createLoopbackPortAdapter } from '../adapters/loopback-port.adapter.js';
import { createProcessAdapter } from '../adapters/process.adapter.js';
import { createServiceDirectoryAdapter } from '../adapters/service-directory.adapter.js';
import { createServiceHealthAdapter } from '../adapters/service-health.adapter.js';
import { createStateFileAdapter } from '../adapters/state-file.adapter.js';
import { serviceControlRoutes } from '../actors/node/service-control.routes.js';
import { createServicesManager } from '../actors/node/services.actor.js';
import type { RescanReport, ServicesManager } from '../actors/node/services.actor.js';
import type { ServicesOptions } from '../actors/node/services.options.js';
import type { Bus } from '../kernel/bus.js';
import { systemClock } from '../kernel/clock.js';
import type { Clock } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';
import { silentLogger } from '../kernel/logger.js';
import type { HttpRoute } from '../kernel/ports/http.port.js';
import type { ServiceControlPort, ServiceRegistryPort } from '../kernel/ports/service-registry.port.js';
import type { ChildSpecInput } from '../kernel/supervisor.js';

export interface ServicesRuntimeOptions extends Partial<ServicesOptions> {
  /** The node's data directory (`services/`, `services-state.json`, `run/`). */
  dataDir: string;
  bus: Bus;
  clock?: Clock;
  logger?: Logger;
  /** Random source of backoff jitter, in [0, 1). */
  random?: () => number;
}

export interface ServicesRuntime {
  registry: ServiceRegistryPort;
  control: ServiceControlPort;
  /** Run-time discovery and version switches (the package installer's entry points). */
  manager: ServicesManager;
  /** Children for the node's root supervisor: the `services` supervisor. */
  children: ChildSpecInput[];
  /** The hot-plug API for the node's control endpoint. */
  routes: HttpRoute[];
  rescan(signal?: AbortSignal): Promise<RescanReport>;
  /** Call after the node's tree has stopped. */
  close(): Promise<void>;
}

export async function createServicesRuntime(options: ServicesRuntimeOptions): Promise<ServicesRuntime> {
  const { bus, clock = systemClock, logger = silentLogger(), random, ...servicesOptions } = options;
  const stateFiles = createStateFileAdapter();
  const manager = await createServicesManager(servicesOptions, {
    bus,
    clock,
    logger,
    stateFiles,
    processes: createProcessAdapter(),
    health: createServiceHealthAdapter(),
    ports: createLoopbackPortAdapter(),
    directory: createServiceDirectoryAdapter({ stateFiles }),
    ...(random ? { random } : {}),
  });
  return {
    registry: manager,
    control: manager,
    manager,
    children: [manager.childSpec],
    routes: serviceControlRoutes(manager, { rescan: (signal) => manager.rescan(signal) }),
    rescan: (signal) => manager.rescan(signal),
    close: () => manager.close(),
  };
}
