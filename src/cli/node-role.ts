/**
 * The whole node role: `startNode` (link, heartbeats, control endpoint) with the node's features
 * plugged into its extension points: the hot-plug services runtime (discovery of
 * `<data-dir>/services/<id>/<version>/` and any extra service directories, one supervised actor per
 * service process, the control API), the jobs runtime (audio workers, one pipeline actor per
 * `job_assign`) and, with a hub, the packages runtime (installs from the hub, `/api/packages`, the
 * `packages` child, new versions switched with no gap). The CLI and embedding hosts start a node
 * through this.
 *
 * ```
 * node
 * ├ hardware, link, heartbeat
 * ├ packages   (with a hub) install / use / uninstall, one operation per service at a time
 * ├ services   supervisor: service:<id> (and service:<id>@<version> during a switch)
 * ├ audio, jobs
 * └ http       /health, /status, /metrics, /api/services…, /api/packages…
 * ```
 */
import { join } from 'node:path';
import { createBus } from '../kernel/bus.js';
import { systemClock } from '../kernel/clock.js';
import type { SystemExit } from '../kernel/system.js';
import { silentLogger } from '../kernel/logger.js';
import type { PackageManager } from '../actors/node/package-manager.actor.js';
import type { ServicesOptions } from '../actors/node/services.options.js';
import { createJobsRuntime } from './jobs-runtime.js';
import { createPackagesRuntime } from './node-packages.runtime.js';
import type { PackagesRuntime, PackagesRuntimeOptions } from './node-packages.runtime.js';
import { createServicesRuntime } from './node-services.runtime.js';
import type { ServicesRuntime } from './node-services.runtime.js';
import { resolveNodeSettings } from './node-options.js';
import { startNode } from './start-node.js';
import type { NodeHandle, NodeJobsExtension, StartNodeOptions } from './start-node.js';

/** Package manager settings of a node role (the hub and the services directory come from the role). */
export type NodeRolePackageOptions = Partial<Omit<PackagesRuntimeOptions, 'hubUrl' | 'servicesDir' | 'hubKeys' | 'bus' | 'clock' | 'logger' | 'random'>>;

export interface NodeRoleOptions extends Omit<StartNodeOptions, 'services'> {
  /** Service directories run in addition to the installed packages (development). */
  extraServiceDirs?: string[];
  /** Hot-plug tuning (probe interval, restart intensity and backoff, stop timeout, port overrides…). */
  services?: Partial<Omit<ServicesOptions, 'dataDir' | 'extraServiceDirs'>>;
  /** The jobs extension; default: the real jobs runtime (audio pool, speech over HTTP). */
  jobs?: StartNodeOptions['jobs'];
  /**
   * The model hub, e.g. `http://hub.local:5000`. With it the node installs packages from the hub
   * into `<dataDir>/services/` (the `packages` child) and serves `/api/packages…` for `linguamesh pkg`.
   */
  hubUrl?: string;
  /** The hub's public keys by `key_id` (raw 32-byte Ed25519 keys, base64): package signatures are then required (§10.6). */
  hubKeys?: Record<string, string>;
  /** Package manager tuning (retries, activation timeout, bounds…). */
  packages?: NodeRolePackageOptions;
}

export interface NodeRoleHandle extends NodeHandle {
  services: ServicesRuntime;
  /** The package manager, when the node has a hub. */
  packages?: PackageManager;
}

export async function startNodeRole(options: NodeRoleOptions): Promise<NodeRoleHandle> {
  const settings = resolveNodeSettings(options);
  const logger = (options.logger ?? silentLogger()).child({ role: 'node' });
  const bus = options.bus ?? createBus({ logger });
  const clock = options.clock;
  const shared = { bus, logger, ...(clock ? { clock } : {}), ...(options.random ? { random: options.random } : {}) };

  // Before the services runtime: its first scan must see the `current` pointers recovery repaired.
  const packages: PackagesRuntime | undefined =
    options.hubUrl === undefined
      ? undefined
      : await createPackagesRuntime({
          ...options.packages,
          hubUrl: options.hubUrl,
          hubKeys: options.hubKeys ?? {},
          servicesDir: join(settings.dataDir, 'services'),
          ...shared,
          clock: clock ?? systemClock,
        });
  let services: ServicesRuntime;
  try {
    services = await createServicesRuntime({ ...options.services, dataDir: settings.dataDir, extraServiceDirs: options.extraServiceDirs ?? [], ...shared });
  } catch (err) {
    await packages?.manager.close();
    throw err;
  }

  let jobs: NodeJobsExtension | undefined;
  packages?.bind(services.manager, (serviceId) => jobs?.inUseVersions?.(serviceId) ?? new Set());
  const jobsFactory = options.jobs ?? ((context) => createJobsRuntime(context));
  let node: NodeHandle;
  try {
    node = startNode({
      ...options,
      bus,
      services: {
        registry: services.registry,
        control: services.control,
        children: [...(packages?.children ?? []), ...services.children],
        routes: [...services.routes, ...(packages?.routes ?? [])],
      },
      jobs: (context) => (jobs = jobsFactory(context)),
    });
  } catch (err) {
    packages?.close();
    await Promise.all([services.close(), packages?.manager.close()]);
    throw err;
  }
  // The runtimes outlive the tree only to release what they hold (pid records, pools, subscriptions).
  const done: Promise<SystemExit> = node.done.then(async (exit) => {
    packages?.close();
    await services.close();
    return exit;
  });
  return {
    ...node,
    done,
    services,
    ...(packages ? { packages: packages.manager } : {}),
    stop: () => node.stop().then(() => done),
  };
}
