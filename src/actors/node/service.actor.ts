/**
 * `service:<id>`: the lifecycle machine of one service, provided with its real actors on ports:
 * the process (spawned with the §9.8 environment, output to the logger, ready line detection, group
 * signals), the health probe (§9.1, bounded by the machine's timer through the signal), and the port
 * choice (delegated to the services manager, which knows every port its services hold).
 */
import { resolve } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import type { Logger } from '../../kernel/logger.js';
import type { ProcessHandle, ProcessPort, ProcessSignal } from '../../kernel/ports/process.port.js';
import type { HealthProbeResult, ServiceHealthPort } from '../../kernel/ports/service-health.port.js';
import { serviceLifecycleMachine } from '../../machines/service-lifecycle.machine.js';
import type { ProcessCommand, ProcessReport, ServicePortInput, ServiceProcessInput } from '../../machines/service-lifecycle.machine.js';
import type { ServiceManifest } from '../../protocol/service-json.schema.js';

/** Exact stdout line that counts as a passing health check (PROTOCOL.md §9.1). */
export const SERVICE_READY_LINE = '[SERVICE_READY]';
export const SERVICE_HOST = '127.0.0.1';

export interface ServiceRun {
  manifest: ServiceManifest;
  /** Absolute directory the service runs from. */
  dir: string;
  /** Version named by the install layout, when service.json has none. */
  version?: string;
}

export interface ServiceActorDeps {
  processes: ProcessPort;
  health: ServiceHealthPort;
  logger: Logger;
  /** Longest output line logged, in characters. */
  maxLineChars: number;
  /** Chooses and reserves the port of the next start (§9.8). */
  allocatePort(serviceId: string, signal: AbortSignal): Promise<number>;
  /** Told about every process started and ended, to clean up after a node that was killed. */
  onSpawned(serviceId: string, handle: ProcessHandle): void;
  onExited(serviceId: string, pid: number): void;
}

export function serviceBaseUrl(port: number): string {
  return `http://${SERVICE_HOST}:${port}`;
}

/** PROTOCOL.md §9.8: the variables the node adds, then the service.json `env`. */
export function serviceEnvironment(run: ServiceRun, port: number): Record<string, string> {
  const version = run.manifest.version ?? run.version;
  return {
    PORT: String(port),
    SERVICE_PORT: String(port),
    HOST: SERVICE_HOST,
    SERVICE_ID: run.manifest.id,
    ...(version !== undefined ? { SERVICE_VERSION: version } : {}),
    MODELS_DIR: resolve(run.dir, 'models'),
    ...run.manifest.env,
  };
}

/** The strongest of two signals: SIGKILL wins over SIGTERM. */
function stronger(a: ProcessSignal | undefined, b: ProcessSignal): ProcessSignal {
  return a === 'SIGKILL' ? a : b;
}

export function serviceActorLogic(run: ServiceRun, deps: ServiceActorDeps) {
  const { manifest } = run;
  const version = manifest.version ?? run.version;
  const log = deps.logger.child({ actor: `service:${manifest.id}`, serviceId: manifest.id, ...(version !== undefined ? { version } : {}) });

  const processLogic = fromCallback<ProcessCommand, ServiceProcessInput, ProcessReport>(({ input, sendBack, receive }) => {
    let handle: ProcessHandle | undefined;
    let requested: ProcessSignal | undefined;
    let disposed = false;
    const spawnAbort = new AbortController();
    const onLine = (stream: 'stdout' | 'stderr', line: string) => {
      log.info({ stream, line }, 'service output');
      if (disposed || stream !== 'stdout') return;
      const trimmed = line.trim();
      if (trimmed === SERVICE_READY_LINE) sendBack({ type: 'process.readyLine' });
      else if (line.includes(SERVICE_READY_LINE)) sendBack({ type: 'process.readyHint' });
    };
    const spec = {
      command: manifest.exec.command,
      args: manifest.exec.args,
      cwd: resolve(run.dir, manifest.exec.cwd ?? '.'),
      env: serviceEnvironment(run, input.port),
      maxLineChars: deps.maxLineChars,
    };
    deps.processes.spawn(spec, onLine, spawnAbort.signal).then(
      (spawned) => {
        handle = spawned;
        deps.onSpawned(manifest.id, spawned);
        log.info({ pid: spawned.pid, port: input.port, command: spec.command }, 'service process started');
        void spawned.exited.then((exit) => {
          deps.onExited(manifest.id, spawned.pid);
          log.info({ pid: spawned.pid, code: exit.code, signal: exit.signal }, 'service process exited');
          if (!disposed) sendBack({ type: 'process.exited', exit });
        });
        if (disposed) {
          spawned.signalGroup('SIGKILL');
          return;
        }
        sendBack({ type: 'process.spawned', pid: spawned.pid });
        if (requested) spawned.signalGroup(requested);
      },
      (err: unknown) => {
        log.warn({ err, command: spec.command, cwd: spec.cwd }, 'service process could not start');
        if (!disposed) sendBack({ type: 'process.spawnFailed', message: err instanceof Error ? err.message : String(err) });
      },
    );
    receive((command) => {
      requested = stronger(requested, command.signal);
      if (handle && !handle.hasExited()) {
        log.info({ pid: handle.pid, signal: command.signal }, 'signalling the service process group');
        handle.signalGroup(command.signal);
      }
    });
    // Leaving the live states for any reason (a stop by force, a crash of this actor, the node
    // going down) must not leave the process behind.
    return () => {
      disposed = true;
      spawnAbort.abort();
      if (handle && !handle.hasExited()) handle.signalGroup('SIGKILL');
    };
  });

  const probeLogic = fromPromise<HealthProbeResult, ServiceProcessInput>(({ input, signal }) =>
    deps.health.probe({ baseUrl: serviceBaseUrl(input.port), endpoint: manifest.healthCheck.endpoint, method: manifest.healthCheck.method }, signal),
  );

  const portLogic = fromPromise<number, ServicePortInput>(({ input, signal }) => deps.allocatePort(input.serviceId, signal));

  return serviceLifecycleMachine.provide({ actors: { process: processLogic, probeHealth: probeLogic, allocatePort: portLogic } });
}
