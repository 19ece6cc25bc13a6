import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedScheduler, waitFor } from '../../support/scripted-scheduler.js';

const started: number[] = [];
let scheduler: ScriptedScheduler | undefined;

afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already exited */
    }
  }
  await scheduler?.close();
  scheduler = undefined;
});

/** A loopback port nothing listens on (bound, then closed): connects to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('linguamesh node (the command)', () => {
  it('registers with the real hardware probe, tells the operator what to do after NO_GPU_AVAILABLE, serves /status, and stops on SIGTERM', async () => {
    scheduler = await ScriptedScheduler.start();
    const dataDir = mkdtempSync(join(tmpdir(), 'lm-node-cli-'));
    const child = spawn(process.execPath, ['bin/linguamesh.js', 'node', '--scheduler', scheduler.url, '--data-dir', dataDir, '--http-port', '0', '--max-concurrent-jobs', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    if (child.pid) {
      started.push(child.pid);
      appendFileSync(join(process.env.LINGUAMESH_TEST_PIDS_DIR ?? tmpdir(), 'node-command.pids'), `${child.pid}\n`);
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    await waitFor(() => scheduler!.connections[0]?.received.length === 1, 'node_register from the command', 20_000);
    const register = scheduler.last.received[0]!;
    expect(register).toMatchObject({ type: 'node_register', capability_schema_version: '2.0', max_concurrent_jobs: 2, installed_models: [] });
    expect((register.hardware as { cpu_cores: number }).cpu_cores).toBeGreaterThan(0);

    scheduler.last.send({ type: 'node_error', code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported' });
    await waitFor(() => stderr.includes('What to do'), 'the operator message', 10_000);
    expect(stderr).toContain('the scheduler refused this node (NO_GPU_AVAILABLE: Registration refused: no GPU reported)');
    expect(stderr).toContain('POST /api/v1/link/retry');
    const port = Number(/control endpoint http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { link: { state: string; lastRejection: { code: string } } };
    expect(status.link).toMatchObject({ state: 'rejected', lastRejection: { code: 'NO_GPU_AVAILABLE' } });
    expect(stdout).toContain('registration rejected; not retrying until an operator asks');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(scheduler.connections).toHaveLength(1);
  });

  it('takes several schedulers (repeated --scheduler, comma lists): refused ones are skipped at once, and it says where it registered', async () => {
    scheduler = await ScriptedScheduler.start();
    const [dead1, dead2] = [await closedPort(), await closedPort()];
    const dataDir = mkdtempSync(join(tmpdir(), 'lm-node-cli-'));
    const args = ['--scheduler', `ws://127.0.0.1:${dead1},ws://127.0.0.1:${dead2}`, '--scheduler', scheduler.url];
    const child = spawn(process.execPath, ['bin/linguamesh.js', 'node', ...args, '--data-dir', dataDir, '--http-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    if (child.pid) {
      started.push(child.pid);
      appendFileSync(join(process.env.LINGUAMESH_TEST_PIDS_DIR ?? tmpdir(), 'node-command.pids'), `${child.pid}\n`);
    }
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    // Two refused connects, each followed by a move of at most 1 s (timed on a fake clock in test/unit/machines/link.scheduler-url-failover.test.ts).
    await waitFor(() => scheduler!.connections[0]?.received.length === 1, 'node_register after two refused schedulers', 20_000);
    scheduler.last.send({ type: 'node_register_ack', node_id: 'node-0000C0DE', message: 'ok', status: 'registering' });
    const url = `${scheduler.url}/ws/node`;
    await waitFor(() => stderr.includes('registered with') && stderr.includes('failover order'), 'the registration and scheduler lines', 10_000);
    expect(stderr).toContain(`registered with ${url} as node-0000C0DE`);
    expect(stderr).toContain(`schedulers in failover order: ws://127.0.0.1:${dead1}/ws/node, ws://127.0.0.1:${dead2}/ws/node, ${url}`);
    const port = Number(/control endpoint http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { link: Record<string, unknown> };
    expect(status.link).toMatchObject({ state: 'registered', nodeId: 'node-0000C0DE', schedulerUrl: url });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
