/**
 * A `ServiceActivationPort` over real processes, standing in for the node's hot-plug runtime in
 * integration tests: starts `services/<id>/<version>/` per its service.json with `PORT` set, waits
 * (bounded polling of real I/O) until `GET /health` says ok, and stops the previous process first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { KernelError } from '../../../src/kernel/errors.js';
import type { ServiceActivationPort } from '../../../src/kernel/ports/service-activation.port.js';
import { parseServiceJson } from '../../../src/protocol/service-json.schema.js';
import { recordPid } from '../pids.js';
import { freePort } from '../service-process.js';

interface Running {
  version: string;
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
}


async function healthy(port: number): Promise<boolean> {
  try {
    const res = await request(`http://127.0.0.1:${port}/health`, { headersTimeout: 1_000, bodyTimeout: 1_000 });
    const body = (await res.body.json()) as { status?: string };
    return res.statusCode === 200 && body.status === 'ok';
  } catch {
    return false;
  }
}

export class ProcessActivation implements ServiceActivationPort {
  readonly calls: string[] = [];
  private readonly running = new Map<string, Running>();

  constructor(private readonly servicesDir: string) {}

  async activate(serviceId: string, version: string, signal: AbortSignal): Promise<void> {
    this.calls.push(`activate ${serviceId}@${version}`);
    await this.stop(serviceId);
    const dir = join(this.servicesDir, serviceId, version);
    const parsed = parseServiceJson(JSON.parse(await readFile(join(dir, 'service.json'), 'utf8')));
    if (!parsed.ok) throw new KernelError('SERVICE_START_FAILED', 'invalid service.json');
    const manifest = parsed.value;
    const port = await freePort();
    const command = manifest.exec.command === 'node' ? process.execPath : manifest.exec.command;
    const child = spawn(command, manifest.exec.args, {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', SERVICE_ID: serviceId, SERVICE_VERSION: version },
    });
    recordPid(child.pid);
    let dead = false;
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      dead = true;
      resolve();
    }));
    const deadline = Date.now() + manifest.startupTimeoutMs;
    while (!dead && Date.now() < deadline && !signal.aborted) {
      if (await healthy(port)) {
        this.running.set(serviceId, { version, child, port, exited });
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    await exited;
    throw new KernelError('SERVICE_START_FAILED', `${serviceId}@${version} ${dead ? 'exited' : 'never became healthy'}`);
  }

  async deactivate(serviceId: string): Promise<void> {
    this.calls.push(`deactivate ${serviceId}`);
    await this.stop(serviceId);
  }

  inUseVersions(): ReadonlySet<string> {
    return new Set();
  }

  /** The running version and its `/health` answer. */
  async health(serviceId: string): Promise<{ version: string; body: unknown } | undefined> {
    const r = this.running.get(serviceId);
    if (!r) return undefined;
    const res = await request(`http://127.0.0.1:${r.port}/health`);
    return { version: r.version, body: await res.body.json() };
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stop(id);
  }

  private async stop(serviceId: string): Promise<void> {
    const r = this.running.get(serviceId);
    if (!r) return;
    this.running.delete(serviceId);
    r.child.kill('SIGTERM');
    await r.exited;
  }
}
