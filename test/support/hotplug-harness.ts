/**
 * Real service processes under the real services runtime, on a FakeClock: writes service.json
 * variants of test/fixtures/services/test-service.mjs into a temporary data directory (installed
 * layout `services/<id>/<version>/` with a `current` link), boots the `services` supervisor, and
 * drives fake time while real processes start and stop (bounded polling of real I/O).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createServicesRuntime } from '../../src/cli/node-services.runtime.js';
import type { ServicesRuntime, ServicesRuntimeOptions } from '../../src/cli/node-services.runtime.js';
import { createBus } from '../../src/kernel/bus.js';
import type { Bus, BusEventOf } from '../../src/kernel/bus.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { createLogger } from '../../src/kernel/logger.js';
import { bootSystem } from '../../src/kernel/system.js';
import type { SystemHandle } from '../../src/kernel/system.js';

export const TEST_SERVICE_SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/services/test-service.mjs');

export interface ServiceVariant {
  id: string;
  version?: string;
  /** Environment of the test service (see the header of test-service.mjs). */
  env?: Record<string, string | number | boolean>;
  port?: number;
  startupTimeoutMs?: number;
  healthIntervalMs?: number;
  type?: string;
  enabled?: boolean;
  /** Replaces the whole document (e.g. an invalid one). */
  raw?: unknown;
}

export function serviceJson(variant: ServiceVariant): unknown {
  if (variant.raw !== undefined) return variant.raw;
  return {
    id: variant.id,
    name: `test ${variant.id}`,
    version: variant.version ?? '1.0.0',
    type: variant.type ?? 'tts',
    device: 'cpu',
    ...(variant.port !== undefined ? { port: variant.port } : {}),
    exec: { command: 'node', args: [TEST_SERVICE_SCRIPT] },
    env: { FIXTURE_FROM_SERVICE_JSON: 'yes', ...variant.env },
    health_check: { endpoint: '/health', interval_ms: variant.healthIntervalMs ?? 100, timeout_ms: 1_000 },
    startup_timeout_ms: variant.startupTimeoutMs ?? 60_000,
    languages: { tts: ['es'], voices: { es: ['es'] } },
    ...(variant.enabled !== undefined ? { enabled: variant.enabled } : {}),
  };
}

/** Writes `services/<id>/<version>/service.json` and points `current` at it. */
export function installService(dataDir: string, variant: ServiceVariant): string {
  const version = variant.version ?? '1.0.0';
  const dir = join(dataDir, 'services', variant.id, version);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'service.json'), JSON.stringify(serviceJson(variant)));
  rmSync(join(dataDir, 'services', variant.id, 'current'), { force: true });
  symlinkSync(version, join(dataDir, 'services', variant.id, 'current'));
  return dir;
}

export function alive(pid: number): boolean {
  try {
    // A zombie is dead for our purpose (it waits only for its parent, or init, to reap it).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    /* no /proc: fall back to signal 0 */
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function recordPids(...pids: number[]): void {
  const dir = process.env.LINGUAMESH_TEST_PIDS_DIR;
  if (dir) writeFileSync(join(dir, `hotplug-test-${process.pid}.pids`), pids.map((p) => `${p}\n`).join(''), { flag: 'a' });
}

/** Waits (really) for real I/O while moving fake time in small steps. */
export async function pumpUntil(clock: FakeClock, done: () => boolean, what = 'condition', options: { stepMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await clock.advanceAsync(options.stepMs ?? 20);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Awaits `promise` while moving fake time (for calls whose bounds run on the clock). */
export async function settle<T>(clock: FakeClock, promise: Promise<T>, what = 'call'): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await pumpUntil(clock, () => settled, what);
  return promise;
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  return (await res.json()) as T;
}

export interface ServiceInfo {
  pid: number;
  grandchildPid?: number;
  cwd: string;
  env: Record<string, string>;
}

export interface Harness {
  dataDir: string;
  clock: FakeClock;
  runtime: ServicesRuntime;
  system: SystemHandle;
  bus: Bus;
  events: BusEventOf<'service.statusChanged'>[];
  /** Events whose state the registry did not show yet when they were published (must stay empty). */
  registryLagged: string[];
  logLines: Array<Record<string, unknown>>;
  /** Every service pid seen (also recorded under LINGUAMESH_TEST_PIDS_DIR). */
  pids: Set<number>;
  /** Wire-visible sequence of states published for `id`. */
  statesOf(id: string): string[];
  state(id: string): string | undefined;
  waitState(id: string, state: string, timeoutMs?: number): Promise<void>;
  info(id: string): Promise<ServiceInfo>;
  /** Ordered shutdown of the tree, pumping the clock. */
  stop(): Promise<void>;
}

export async function bootServices(variants: ServiceVariant[], options: Partial<ServicesRuntimeOptions> & { dataDir?: string; boot?: boolean } = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lm-hotplug-'));
  for (const variant of variants) installService(dataDir, variant);
  const clock = new FakeClock();
  const bus = createBus();
  const events: BusEventOf<'service.statusChanged'>[] = [];
  const pids = new Set<number>();
  const remember = (...seen: number[]) => {
    const fresh = seen.filter((p) => !pids.has(p));
    for (const p of fresh) pids.add(p);
    if (fresh.length > 0) recordPids(...fresh);
  };
  const logLines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const { boot: _boot, dataDir: _dir, ...rest } = options;
  const runtime = await createServicesRuntime({
    dataDir,
    bus,
    clock,
    logger: createLogger({ level: 'info', format: 'json', destination }),
    random: () => 0,
    probeIntervalMs: 30_000,
    minBackoffMs: 500,
    ...rest,
  });
  const registryLagged: string[] = [];
  bus.subscribe('service.statusChanged', (e) => {
    events.push(e);
    // The heartbeat reads the registry when it hears an event: the registry must already agree.
    if (e.reason !== 'removed' && runtime.registry.get(e.serviceId)?.state !== e.state) registryLagged.push(`${e.serviceId}:${e.state}`);
    const pid = runtime.registry.get(e.serviceId)?.pid;
    if (pid !== undefined) remember(pid);
  });
  const system = bootSystem({ clock, signals: 'none', root: { id: 'node', strategy: 'one_for_one', children: runtime.children } });
  const h: Harness = {
    dataDir,
    clock,
    runtime,
    system,
    bus,
    events,
    registryLagged,
    logLines,
    statesOf: (id) => events.filter((e) => e.serviceId === id).map((e) => e.state),
    state: (id) => runtime.registry.get(id)?.state,
    waitState: (id, state, timeoutMs) => pumpUntil(clock, () => runtime.registry.get(id)?.state === state, `${id} ${state}`, { ...(timeoutMs ? { timeoutMs } : {}) }),
    async info(id) {
      const baseUrl = runtime.registry.get(id)?.baseUrl;
      if (!baseUrl) throw new Error(`${id} has no baseUrl`);
      const info = await getJson<ServiceInfo>(`${baseUrl}/info`);
      remember(info.pid, ...(info.grandchildPid ? [info.grandchildPid] : []));
      return info;
    },
    pids,
    async stop() {
      try {
        await settle(clock, system.stop(), 'ordered shutdown');
        await runtime.close();
      } finally {
        // Safety net: a failed test must not leave its processes to the next one.
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone, as it should be */
          }
        }
      }
    },
  };
  return h;
}
