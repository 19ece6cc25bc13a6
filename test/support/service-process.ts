/**
 * Runs a reference service the way a node does: built into its own directory by
 * `buildServiceDirectory`, started as `node server.mjs` with `PORT` on a free loopback port, and
 * ready once `GET /health` answers `ok`. Startup is real process I/O (model loading), so the wait
 * is a bounded poll of the real health endpoint, not a timer under test. Every pid is recorded
 * under LINGUAMESH_TEST_PIDS_DIR so the suite can prove nothing outlives it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildServiceDirectory } from '../../src/adapters/service-bundle.adapter.js';
import type { ServiceBundle } from '../../src/adapters/service-bundle.adapter.js';
import { createLoopbackPortAdapter } from '../../src/adapters/loopback-port.adapter.js';

export const SERVICES_SOURCE_DIR = resolve(import.meta.dirname, '../../native/services');

/** Longest a service may take from spawn to healthy, in ms (the ASR model loads in about 1 s when the machine is idle). */
const READY_TIMEOUT_MS = 40_000;
/**
 * Time allowed to a test or hook that starts or drives real engines, in ms: generous, because CPU
 * time for decoding is real and a shared 2-core machine can be several times slower than idle.
 */
export const ENGINE_TEST_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 50;
/** Output kept for failure messages, in characters. */
const OUTPUT_KEEP_CHARS = 16_000;

export interface BuiltService {
  bundle: ServiceBundle;
  remove(): void;
}

export async function buildService(id: string): Promise<BuiltService> {
  const dir = mkdtempSync(join(tmpdir(), `linguamesh-${id}-`));
  const bundle = await buildServiceDirectory(join(SERVICES_SOURCE_DIR, id), join(dir, id));
  return { bundle, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A loopback port that was free a moment ago (the OS's choice for port 0, then released). */
export function freePort(): Promise<number> {
  return createLoopbackPortAdapter().pickFree(new AbortController().signal);
}

export interface RunningService {
  baseUrl: string;
  child: ChildProcess;
  /** Health answers seen while waiting, in order (status codes and bodies). */
  healthSeen: { status: number; body: unknown }[];
  output(): string;
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function recordPid(pid: number): void {
  const dir = process.env.LINGUAMESH_TEST_PIDS_DIR;
  if (dir) writeFileSync(join(dir, `service-${pid}`), `${pid}\n`);
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Port to listen on; default: a free one. */
  port?: number;
  /** Resolve as soon as the process is spawned, without waiting for health. */
  waitReady?: boolean;
}

export async function startService(bundle: ServiceBundle, options: StartOptions = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [bundle.entry], {
    cwd: bundle.outDir,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${bundle.entry}`);
  recordPid(child.pid);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  const service: RunningService = {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    healthSeen: [],
    output: () => output,
    exited,
    stop: async (graceMs = 8_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
  if (options.waitReady !== false) await waitReady(service);
  return service;
}

export async function waitReady(service: RunningService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone = false;
  void service.exited.then(() => {
    gone = true;
  });
  while (Date.now() < deadline) {
    if (gone) throw new Error(`service exited before it was ready:\n${service.output()}`);
    try {
      const res = await fetch(`${service.baseUrl}/health`);
      const body: unknown = await res.json();
      service.healthSeen.push({ status: res.status, body });
      if (res.status === 200 && (body as { status?: unknown }).status === 'ok') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error(`service not ready within ${READY_TIMEOUT_MS} ms:\n${service.output()}`);
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function postJson<T = unknown>(baseUrl: string, path: string, body: unknown): Promise<JsonResponse<T>> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}
