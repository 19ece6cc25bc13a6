/**
 * `linguamesh scheduler` as a real OS process: it logs where it listens, serves /health and the
 * guarded API, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startCli(args: string[]): { child: ChildProcess; listening: Promise<number>; exit: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['bin/linguamesh.js', 'scheduler', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  children.push(child);
  const dir = process.env.LINGUAMESH_TEST_PIDS_DIR;
  if (dir && child.pid !== undefined) appendFileSync(join(dir, `cli-${process.pid}.pids`), `${child.pid}\n`);
  let out = '';
  const listening = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('scheduler listening')) continue;
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', () => reject(new Error(`scheduler exited before listening: ${out}`)));
  });
  listening.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, listening, exit, output: () => out };
}

describe('linguamesh scheduler', () => {
  it('listens, serves /health, guards the API with --auth-token, and exits 0 on SIGTERM', async () => {
    const cli = startCli(['--port', '0', '--host', '127.0.0.1', '--auth-token', 'sekret', '--log-level', 'info']);
    const port = await cli.listening;
    const health = await request(`http://127.0.0.1:${port}/health`);
    expect([health.statusCode, await health.body.text()]).toEqual([200, 'OK']);
    const refused = await request(`http://127.0.0.1:${port}/api/v1/nodes`);
    await refused.body.dump();
    expect(refused.statusCode).toBe(401);
    const allowed = await request(`http://127.0.0.1:${port}/api/v1/nodes`, { headers: { authorization: 'Bearer sekret' } });
    expect(await allowed.body.json()).toEqual({ source: 'store', nodes: [] });
    cli.child.kill('SIGTERM');
    await expect(cli.exit).resolves.toBe(0);
    expect(cli.output()).not.toContain('sekret');
  });

  it('refuses an invalid store and exits 1', async () => {
    const cli = startCli(['--port', '0', '--store', 'mongodb://x']);
    await expect(cli.exit).resolves.toBe(1);
    expect(cli.output()).toContain('INVALID_CONFIG');
  });
});
