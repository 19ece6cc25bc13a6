/**
 * Composition of the node's package manager over the real adapters: the hub over undici, the
 * package store, yauzl extraction and statfs. The node role passes its services supervisor as the
 * activation port and its bus; tests and tools may replace the disk port.
 */
import { createPackageManager } from '../actors/node/package-manager.actor.js';
import type { PackageManager, PackageManagerOptions } from '../actors/node/package-manager.actor.js';
import { createDiskSpace } from '../adapters/disk-space.adapter.js';
import { createHubClient } from '../adapters/hub-client.adapter.js';
import { createPackageArchive } from '../adapters/package-archive.adapter.js';
import { createPackageStore } from '../adapters/package-store.adapter.js';
import type { Bus } from '../kernel/bus.js';
import { systemClock } from '../kernel/clock.js';
import type { Clock } from '../kernel/clock.js';
import { silentLogger } from '../kernel/logger.js';
import type { Logger } from '../kernel/logger.js';
import type { DiskSpacePort } from '../kernel/ports/disk-space.port.js';
import type { HubClientPort } from '../kernel/ports/hub-client.port.js';
import type { ServiceActivationPort } from '../kernel/ports/service-activation.port.js';

export interface NodePackageManagerOptions extends Partial<PackageManagerOptions> {
  /** The hub, e.g. `http://hub.local:5000`. */
  hubUrl: string;
  /** The node's services directory (`services/<id>/<version>/`, `current`). */
  servicesDir: string;
  /** Downloads, staging, journal; default `<servicesDir>/.packages` (must share its file system). */
  workDir?: string;
  /** `auto`: `current` is a symbolic link where possible; `never`: always `current.json`. */
  symlinks?: 'auto' | 'never';
  /** A download with no bytes for this long is retried, in ms. Default 30 000. */
  downloadStallTimeoutMs?: number;
  /** Bound of one catalogue/checksum request to the hub, in ms. Default 15 000. */
  hubRequestTimeoutMs?: number;
}

export interface NodePackageManagerDeps {
  activation: ServiceActivationPort;
  bus: Bus;
  clock?: Clock;
  logger?: Logger;
  /** Replaces the statfs-based free-space port (tests simulate a full disk with it). */
  disk?: DiskSpacePort;
  /** Replaces the hub client (tests wrap it to observe downloads). */
  hub?: (defaults: HubClientPort) => HubClientPort;
  random?: () => number;
}

export function createNodePackageManager(options: NodePackageManagerOptions, deps: NodePackageManagerDeps): PackageManager {
  const { hubUrl, servicesDir, workDir, symlinks, downloadStallTimeoutMs, hubRequestTimeoutMs, ...managerOptions } = options;
  const clock = deps.clock ?? systemClock;
  const client = createHubClient({ baseUrl: hubUrl, clock, stallTimeoutMs: downloadStallTimeoutMs ?? 30_000, requestTimeoutMs: hubRequestTimeoutMs ?? 15_000 });
  const hub = deps.hub ? deps.hub(client) : client;
  const ports = {
    hub,
    store: createPackageStore({ servicesDir, ...(workDir !== undefined ? { workDir } : {}), ...(symlinks !== undefined ? { symlinks } : {}) }),
    archive: createPackageArchive(),
    disk: deps.disk ?? createDiskSpace(),
    activation: deps.activation,
  };
  let manager: PackageManager;
  try {
    manager = createPackageManager({ ports, bus: deps.bus, clock, logger: deps.logger ?? silentLogger(), ...(deps.random ? { random: deps.random } : {}) }, managerOptions);
  } catch (err) {
    // Invalid options: nothing was started but the hub client, which must not linger.
    void client.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    ...manager,
    close() {
      closing ??= manager.close().then(() => client.close());
      return closing;
    },
  };
}
