/**
 * The `linguamesh` command as OS processes for end-to-end tests: one-shot commands (`pkg pack`,
 * `pkg publish`, `pkg install`…) and a hub (`linguamesh hub`) that runs until stopped. Every pid is
 * recorded under LINGUAMESH_TEST_PIDS_DIR (test/support/global-setup.ts checks none outlives the suite).
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { recordPid } from '../pids.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `linguamesh <args>` to its end. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['bin/linguamesh.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  recordPid(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface HubProcess {
  child: ChildProcessByStdio<null, Readable, null>;
  port: number;
  url: string;
  exited: Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts `linguamesh hub` on 127.0.0.1 and resolves once it logs that it listens. */
export function startHubProcess(options: { storage: string; port?: number }): Promise<HubProcess> {
  const child = spawn(process.execPath, ['bin/linguamesh.js', 'hub', '--host', '127.0.0.1', '--port', String(options.port ?? 0), '--storage', options.storage], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  recordPid(child.pid);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (const line of buffered.split('\n')) {
        if (!line.includes('"hub listening"')) continue;
        const port = (JSON.parse(line) as { port: number }).port;
        resolve({
          child,
          port,
          url: `http://127.0.0.1:${port}`,
          exited,
          stop: async () => {
            if (!gone) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`hub exited with ${String(code)} before listening`)));
  });
}
