/**
 * The whole node role: `startNode` (link, heartbeats, control endpoint) with the node's features
 * plugged into its extension points: the hot-plug services runtime (discovery of
 * `<data-dir>/services/<id>/<version>/` and any extra service directories, one supervised actor per
 * service process, the control API) and the jobs runtime (audio workers, one pipeline actor per
 * `job_assign`). The CLI and embedding hosts start a node through this.
 */
import { createBus } from '../kernel/bus.js';
import type { SystemExit } from '../kernel/system.js';
import { silentLogger } from '../kernel/logger.js';
import type { ServicesOptions } from '../actors/node/services.options.js';
import { createJobsRuntime } from './jobs-runtime.js';
import { createServicesRuntime } from './node-services.runtime.js';
import type { ServicesRuntime } from './node-services.runtime.js';
import { resolveNodeSettings } from './node-options.js';
import { startNode } from './start-node.js';
import type { NodeHandle, StartNodeOptions } from './start-node.js';

export interface NodeRoleOptions extends Omit<StartNodeOptions, 'services'> {
  /** Service directories run in addition to the installed packages (development). */
  extraServiceDirs?: string[];
  /** Hot-plug tuning (probe interval, restart intensity and backoff, stop timeout, port overrides…). */
  services?: Partial<Omit<ServicesOptions, 'dataDir' | 'extraServiceDirs'>>;
  /** The jobs extension; default: the real jobs runtime (audio pool, speech over HTTP). */
  jobs?: StartNodeOptions['jobs'];
}

export interface NodeRoleHandle extends NodeHandle {
  services: ServicesRuntime;
}

export async function startNodeRole(options: NodeRoleOptions): Promise<NodeRoleHandle> {
  const settings = resolveNodeSettings(options);
  const logger = (options.logger ?? silentLogger()).child({ role: 'node' });
  const bus = options.bus ?? createBus({ logger });
  const services = await createServicesRuntime({
    ...options.services,
    dataDir: settings.dataDir,
    extraServiceDirs: options.extraServiceDirs ?? [],
    bus,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  let node: NodeHandle;
  try {
    node = startNode({
      ...options,
      bus,
      services: { registry: services.registry, control: services.control, children: services.children, routes: services.routes },
      jobs: options.jobs ?? ((context) => createJobsRuntime(context)),
    });
  } catch (err) {
    await services.close();
    throw err;
  }
  // The services runtime outlives the tree only to release what it holds (pid records, pools).
  const done: Promise<SystemExit> = node.done.then(async (exit) => {
    await services.close();
    return exit;
  });
  return {
    ...node,
    done,
    services,
    stop: () => node.stop().then(() => done),
  };
}
