/**
 * The model hub role, programmatically: package storage scanned by the `catalogue` actor under a
 * root supervisor, and one HTTP server for the JSON API (PROTOCOL.md §10), the storage downloads
 * and `/metrics` (Prometheus text: file responses and bytes sent).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { hubCatalogueChild } from '../actors/hub/catalogue.actor.js';
import type { CatalogueView } from '../actors/hub/catalogue.actor.js';
import { hubRoutes } from '../actors/hub/hub.routes.js';
import { resolveStorageRequest } from '../actors/hub/storage.routes.js';
import { createHubMetrics, createStorageFallback } from '../adapters/hub-files.adapter.js';
import { createHubStorage } from '../adapters/hub-storage.adapter.js';
import { startHttpServer } from '../adapters/http-server.adapter.js';
import type { Bus } from '../kernel/bus.js';
import { systemClock } from '../kernel/clock.js';
import type { Clock } from '../kernel/clock.js';
import { ConfigError } from '../kernel/errors.js';
import { silentLogger } from '../kernel/logger.js';
import type { Logger } from '../kernel/logger.js';
import { bootSystem } from '../kernel/system.js';
import { DEFAULT_HUB_OPTIONS } from './start-hub.defaults.js';
import type { InspectionObserver, SystemExit } from '../kernel/system.js';

export interface HubOptions {
  /** Interface to listen on. Default `0.0.0.0`: nodes on other machines download from the hub. */
  host: string;
  /** TCP port (PROTOCOL.md §0.5 `hub.port`); 0 picks a free one. */
  port: number;
  /** Package storage root (`<storage>/services/<id>/<version>.zip`, `<storage>/models/…`). */
  storageDir: string;
  /** Period of the background storage rescans, in ms. */
  rescanIntervalMs: number;
  /** Age a zip without sidecar must reach before the hub adopts it, in ms. */
  adoptAfterMs: number;
  /** Time in-flight downloads get at stop before their sockets are closed, in ms. */
  closeTimeoutMs: number;
}

export { DEFAULT_HUB_OPTIONS };

/** The fields of `HubOptions` as zod types (the role configuration builds on it: src/cli/role-config.schema.ts). */
export const HubOptionsShape = {
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  storageDir: z.string().min(1),
  rescanIntervalMs: z.number().int().positive(),
  adoptAfterMs: z.number().int().nonnegative(),
  closeTimeoutMs: z.number().int().nonnegative(),
};

const HubOptionsSchema = z.object(HubOptionsShape);

export interface StartHubOptions extends Partial<Omit<HubOptions, 'storageDir'>> {
  storageDir: string;
  logger?: Logger;
  clock?: Clock;
  /** Receivers of the inspection stream (Stately inspector, JSONL recorder). */
  inspectors?: InspectionObserver[];
  /** Where the hub publishes its events (`hub.catalogueScanned`). */
  bus?: Bus;
}

export interface HubHandle {
  readonly port: number;
  readonly host: string;
  /** `http://<host>:<port>` (loopback when listening on every interface). */
  readonly url: string;
  readonly catalogue: CatalogueView;
  /** Prometheus text of the hub's counters. */
  metrics(): Promise<string>;
  /** Settles once the hub's actor tree has stopped, for whatever reason; its server is closed by then. Never rejects. */
  readonly done: Promise<SystemExit>;
  /** Closes the server and stops the actor tree. Idempotent. */
  stop(): Promise<void>;
}

export const HUB_VERSION = '0.1.0';

/** Options merged over `DEFAULT_HUB_OPTIONS` and validated; throws INVALID_CONFIG naming the fields. Other keys are ignored. */
export function resolveHubOptions(options: Partial<HubOptions> & Pick<HubOptions, 'storageDir'>): HubOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const parsed = HubOptionsSchema.safeParse({ ...DEFAULT_HUB_OPTIONS, ...defined });
  if (!parsed.success) throw new ConfigError(`invalid hub options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function startHub(options: StartHubOptions): Promise<HubHandle> {
  const config = resolveHubOptions(options);
  const logger = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const root = resolve(config.storageDir);

  const storage = createHubStorage({ root, logger, adoptAfterMs: config.adoptAfterMs });
  const { spec, view } = hubCatalogueChild(storage, { rescanIntervalMs: config.rescanIntervalMs }, logger, options.bus);
  const system = bootSystem({ root: { id: 'hub', strategy: 'one_for_one', children: [spec] }, logger, clock, signals: 'none', ...(options.inspectors ? { inspectors: options.inspectors } : {}) });
  const metrics = createHubMetrics();
  try {
    await view.ready(new AbortController().signal);
    const server = await startHttpServer({
      host: config.host,
      port: config.port,
      closeTimeoutMs: config.closeTimeoutMs,
      logger,
      routes: [
        ...hubRoutes(view, { message: 'linguamesh model hub', version: HUB_VERSION }),
        { method: 'GET', path: '/metrics', handle: async () => ({ status: 200, text: await metrics.registry.metrics(), contentType: metrics.registry.contentType }) },
      ],
      fallback: createStorageFallback({ root, resolve: (path, signal) => resolveStorageRequest(view, path, signal), metrics, logger }),
    });
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    let stopping: Promise<void> | undefined;
    // A tree that ends on its own (a child past its restart intensity) takes the server with it.
    const done = system.done.then(async (exit) => {
      await server.close();
      return exit;
    });
    return {
      done,
      port: server.port,
      host: config.host,
      url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
      catalogue: view,
      metrics: () => metrics.registry.metrics(),
      stop() {
        stopping ??= (async () => {
          await server.close();
          await system.stop();
        })();
        return stopping;
      },
    };
  } catch (err) {
    await system.stop();
    throw err;
  }
}
