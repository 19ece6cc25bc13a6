/**
 * Fleet tests: scheduler instances as real OS processes (test/support/fleet-scheduler.entry.ts) on
 * one real redis-server, with helpers for their HTTP API and for sessions that send utterances and
 * collect their results. Every process's pid is recorded for the suite's orphan check.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { recordPid } from './pids.js';

/** Options of fleet test instances: short leases, a job timeout a retry can live with. */
export const FLEET_TEST_OPTIONS = {
  instanceLeaseMs: 1_500,
  reservationLeaseMs: 5_000,
  fleetResyncMs: 2_000,
  jobTimeoutMs: 4_000,
  noNodeTimeoutMs: 20_000,
  noNodeRetryMs: 200,
  heartbeatIntervalMs: 500,
};

export interface FleetInstanceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly instanceId: string;
  readonly http: string;
  readonly ws: string;
  getJson<T = unknown>(path: string): Promise<T>;
  /** The raw `/health` answer. */
  health(): Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  metrics(): Promise<string>;
  kill(signal: NodeJS.Signals): Promise<void>;
  output(): string;
}

/** Starts one instance and waits (bounded) until it listens. */
export async function startFleetInstance(store: string, options: Record<string, unknown> = {}): Promise<FleetInstanceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fleet-scheduler.entry.ts', JSON.stringify({ store, ...FLEET_TEST_OPTIONS, ...options })], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  recordPid(child.pid);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listening = new Promise<{ port: number; instanceId: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{"listening"')) continue;
        const parsed = JSON.parse(line) as { listening: number; instanceId: string };
        resolve({ port: parsed.listening, instanceId: parsed.instanceId });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', () => reject(new Error(`scheduler exited before listening: ${out.slice(-2_000)}`)));
    setTimeout(() => reject(new Error(`scheduler did not listen within 60 s: ${out.slice(-2_000)}`)), 60_000).unref();
  });
  const { port, instanceId } = await listening;
  const http = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    instanceId,
    http,
    ws: `ws://127.0.0.1:${port}`,
    async getJson<T>(path: string) {
      const res = await request(`${http}${path}`);
      return (await res.body.json()) as T;
    },
    async health() {
      const res = await request(`${http}/health`);
      return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
    },
    async metrics() {
      const res = await request(`${http}/metrics`);
      return res.body.text();
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    output: () => out,
  };
}

/** Polls `probe` (real I/O) until it returns true, at most `timeoutMs`. */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // Not yet (a process still starting): polled again.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
