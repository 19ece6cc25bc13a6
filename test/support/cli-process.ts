/**
 * Runs `node bin/linguamesh.js …` (or any script of the repository, `runNode`) as a real OS
 * process to completion: its exit code and output.
 * The pid is recorded for the suite's orphan check, and a process still running at the deadline
 * is killed (and the call rejects), so no test leaves one behind.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { recordPid } from './pids.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Bytes written to the process's stdin (then closed); stdin is empty otherwise. */
  stdin?: Buffer;
  /** Killed (SIGKILL) after this long, in ms. */
  timeoutMs?: number;
  env?: Record<string, string>;
}

export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  return runNode(['bin/linguamesh.js', ...args], options);
}

/** `node <nodeArgs…>` in the repository's root, e.g. `['--import', 'tsx', 'test/fixtures/…', …]`. */
export function runNode(nodeArgs: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
  });
  recordPid(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.stdin ?? Buffer.alloc(0));
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${nodeArgs.join(' ')} still running after ${options.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': it comes once the output pipes are drained too.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
