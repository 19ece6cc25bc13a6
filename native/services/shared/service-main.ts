/**
 * The life of a service process: read `service.json` and the environment, listen at once (health
 * answers `not_ready` meanwhile), warm the engine with a real request, then report ready (health
 * `ok` and a `[SERVICE_READY]` line, PROTOCOL.md §9.1). SIGTERM/SIGINT close it gracefully: stop
 * accepting, finish in-flight work within the shutdown timeout, stop the engine, exit 0.
 */
import { HttpService } from './http-service.js';
import type { Route } from './http-service.js';
import { readServiceConfig, readServiceManifest } from './service-config.js';
import type { ServiceConfig, ServiceLimits, ServiceManifest } from './service-config.js';
import { createServiceLog } from './service-log.js';
import type { ServiceLog } from './service-log.js';

export interface ServiceEngine {
  routes: readonly Route[];
  /** Sends a real request through the engine; resolves with extra health fields (e.g. `languages`). */
  warmUp(): Promise<Record<string, unknown>>;
  /** Stops the engine: workers terminated, child processes killed. Must not throw. */
  close(): Promise<void>;
}

export interface ServiceContext {
  manifest: ServiceManifest;
  config: ServiceConfig;
  log: ServiceLog;
  env: NodeJS.ProcessEnv;
}

export interface RunServiceOptions {
  /** `service.json`, next to the running bundle. */
  manifestUrl: URL;
  /** Service-specific defaults for the shared limits (the SERVICE_* variables still override them). */
  limitDefaults?: (env: NodeJS.ProcessEnv) => Partial<ServiceLimits>;
  /** Builds the engine and its routes quickly; slow loading belongs in `warmUp`. */
  createEngine(ctx: ServiceContext): ServiceEngine | Promise<ServiceEngine>;
}

/** Extra time over the HTTP drain for the engine to stop before the process exits regardless, in ms. */
const ENGINE_CLOSE_GRACE_MS = 2_000;

export async function runService(options: RunServiceOptions): Promise<void> {
  const env = process.env;
  const manifest = await readServiceManifest(options.manifestUrl);
  const log = createServiceLog(env.SERVICE_ID ?? manifest.id);
  let config: ServiceConfig;
  let engine: ServiceEngine;
  try {
    config = readServiceConfig(env, manifest, options.limitDefaults?.(env));
    engine = await options.createEngine({ manifest, config, log, env });
  } catch (err) {
    log.error({ err }, 'invalid configuration');
    process.exit(1);
  }
  const http = new HttpService({ log, limits: config.limits, routes: engine.routes });
  let stopping: Promise<void> | undefined;

  const stop = (exitCode: number, reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping');
      // Bounded: if draining or the engine hangs, the process still exits.
      const force = setTimeout(() => {
        log.error({}, 'shutdown did not finish in time; exiting');
        process.exit(exitCode === 0 ? 1 : exitCode);
      }, config.limits.shutdownTimeoutMs + ENGINE_CLOSE_GRACE_MS);
      force.unref();
      await http.close();
      await engine.close();
      log.info({}, 'stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
  process.on('SIGINT', () => void stop(0, 'SIGINT'));
  process.on('uncaughtException', (err) => {
    log.error({ err }, 'uncaught exception');
    void stop(1, 'uncaughtException');
  });

  try {
    const address = await http.listen(config.host, config.port);
    log.info({ host: address.address, port: address.port }, 'listening');
  } catch (err) {
    // Typically EADDRINUSE: the node picks another port and starts the service again (§9.8).
    log.error({ err, host: config.host, port: config.port }, 'cannot listen');
    await engine.close();
    process.exit(1);
  }
  const started = performance.now();
  try {
    const extra = await engine.warmUp();
    if (stopping) return;
    http.setReady(extra);
    log.info({ warmUpMs: Math.round(performance.now() - started) }, 'engine warm; ready');
    process.stdout.write('[SERVICE_READY]\n');
  } catch (err) {
    http.setFailed(err instanceof Error ? err.message : String(err));
    log.error({ err }, 'engine warm-up failed');
    await stop(1, 'warm-up failed');
  }
}
