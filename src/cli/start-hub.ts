/**
 * The model hub role, programmatically: package storage scanned by the `catalogue` actor under a
 * root supervisor, and one HTTP server for the JSON API (PROTOCOL.md §10), the storage downloads
 * and `/metrics` (Prometheus text: file responses and bytes sent).
 */
import { resolve } from 'node:path';
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
import { silentLogger } from '../kernel/logger.js';
import type { Logger } from '../kernel/logger.js';
import { bootSystem } from '../kernel/system.js';
import { DEFAULT_HUB_OPTIONS } from './start-hub.defaults.js';
import { HubOptionsShape, resolveHubOptions } from './hub-options.js';
import type { HubOptions } from './hub-options.js';
import type { InspectionObserver, SystemExit } from '../kernel/system.js';

export { DEFAULT_HUB_OPTIONS, HubOptionsShape, resolveHubOptions };
export type { HubOptions };


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
