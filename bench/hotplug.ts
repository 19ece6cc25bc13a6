/**
 * Hot-plug benchmark (issue "service hot-plug"): with the test service of the integration tests,
 *   (1) time from `control.start(id)` to `running`, and
 *   (2) time from a crash (the service exits) to `running` again (restart backoff 0),
 * each against the baseline measured in the same run: a bare `child_process.spawn` of the same
 * script, then GET /health at the same interval until the first success. Prints p50/p99 and the
 * ratio to the baseline (goal ≤ 1.2).
 *
 *   npx tsx bench/hotplug.ts [--rounds=30] [--interval=10]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { createServicesRuntime } from '../src/cli/node-services.runtime.js';
import { createBus } from '../src/kernel/bus.js';
import { bootSystem } from '../src/kernel/system.js';
import { argNumber, fmt, report, summarize } from './stats.js';
import { createLoopbackPortAdapter } from '../src/adapters/loopback-port.adapter.js';

const ROUNDS = argNumber('rounds', 30);
const INTERVAL_MS = argNumber('interval', 10);
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/services/test-service.mjs');
const SERVICE_ID = 'bench-tts';
const never = () => new AbortController().signal;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const freePort = (): Promise<number> => createLoopbackPortAdapter().pickFree(never());

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await request(url);
    const body = await res.body.text();
    return res.statusCode === 200 && body.includes('"ok"');
  } catch {
    return false;
  }
}

/** Baseline: bare spawn, then poll /health every INTERVAL_MS (first poll after one interval, as the node does). */
async function bareSpawnToHealthy(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: 'ignore' });
  for (;;) {
    await sleep(INTERVAL_MS);
    if (await healthy(`http://127.0.0.1:${port}/health`)) break;
  }
  const elapsed = performance.now() - started;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return elapsed;
}

const dataDir = mkdtempSync(join(tmpdir(), 'lm-bench-hotplug-'));
const versionDir = join(dataDir, 'services', SERVICE_ID, '1.0.0');
mkdirSync(versionDir, { recursive: true });
writeFileSync(
  join(versionDir, 'service.json'),
  JSON.stringify({
    id: SERVICE_ID,
    name: 'bench service',
    version: '1.0.0',
    type: 'tts',
    exec: { command: 'node', args: [SCRIPT] },
    health_check: { endpoint: '/health', interval_ms: INTERVAL_MS, timeout_ms: 1_000 },
    startup_timeout_ms: 30_000,
    enabled: false,
  }),
);
symlinkSync('1.0.0', join(dataDir, 'services', SERVICE_ID, 'current'));

const bus = createBus();
const runtime = await createServicesRuntime({ dataDir, bus, minBackoffMs: 0, maxBackoffMs: 0, maxRestarts: 10_000, withinMs: 1_000 });
const system = bootSystem({ root: { id: 'node', strategy: 'one_for_one', children: runtime.children }, signals: 'none' });

let onRunning: (() => void) | undefined;
bus.subscribe('service.statusChanged', (event) => {
  if (event.serviceId === SERVICE_ID && event.state === 'running') onRunning?.();
});

async function startToRunning(): Promise<number> {
  const started = performance.now();
  await runtime.control.start(SERVICE_ID, never());
  return performance.now() - started;
}

async function crashToRunning(): Promise<number> {
  const { baseUrl } = runtime.registry.get(SERVICE_ID)!;
  const running = new Promise<void>((r) => (onRunning = r));
  const crashedAt = performance.now();
  await request(`${baseUrl}/control/crash`, { method: 'POST' }).then((res) => res.body.text());
  await running;
  return performance.now() - crashedAt;
}

const baseline: number[] = [];
const start: number[] = [];
const crash: number[] = [];
// Warm-up: one of each, not measured (module loading, JIT, file-system caches).
await bareSpawnToHealthy();
await startToRunning();
await crashToRunning();
await runtime.control.stop(SERVICE_ID, never());
// The machine's load drifts: alternate which side goes first so that neither is favoured.
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) baseline.push(await bareSpawnToHealthy());
  start.push(await startToRunning());
  crash.push(await crashToRunning());
  await runtime.control.stop(SERVICE_ID, never());
  if (round % 2 === 1) baseline.push(await bareSpawnToHealthy());
}
await system.stop();
await runtime.close();
rmSync(dataDir, { recursive: true, force: true });

const b = summarize(baseline);
const s = summarize(start);
const c = summarize(crash);
const verdict = (ratio: number) => `${fmt(ratio, 2)}  (goal ≤ 1.2: ${ratio <= 1.2 ? 'met' : 'NOT met'})`;
report(`service hot-plug (${ROUNDS} rounds, health interval ${INTERVAL_MS} ms)`, [
  ['bare spawn → first healthy /health (baseline)', `p50 ${fmt(b.p50, 1)} ms  p99 ${fmt(b.p99, 1)} ms`],
  ['control.start → running', `p50 ${fmt(s.p50, 1)} ms  p99 ${fmt(s.p99, 1)} ms`],
  ['crash → running again (backoff 0)', `p50 ${fmt(c.p50, 1)} ms  p99 ${fmt(c.p99, 1)} ms`],
  ['ratio start / baseline (p50)', verdict(s.p50 / b.p50)],
  ['ratio crash-restart / baseline (p50)', verdict(c.p50 / b.p50)],
]);
