/**
 * Runs an engine's command-line program for one request, bounded in time and output, and keeps
 * track of every child so a stopping service can kill them all. Each child gets its own process
 * group: `apertium` is a shell script whose pipeline stages would otherwise outlive a killed shell.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { ServiceError } from './service-error.js';

export interface EngineRunOptions {
  /** Longest the child may run, in ms; then it is killed and the call fails with `ENGINE_TIMEOUT`. */
  timeoutMs: number;
  /** Largest stdout accepted, in bytes; more is `ENGINE_FAILED`. */
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export interface EngineOutput {
  stdout: Buffer;
  stderr: string;
}

/** How many bytes of stderr are kept for the error message. */
const STDERR_KEEP_BYTES = 2_048;

export interface EngineProcessesOptions {
  /**
   * `TMPDIR` for every child. Engines such as `apertium` make temporary files of their own and lose
   * them when killed; pointed at the service's scratch directory, they go when it is removed.
   */
  tmpdir?: string;
}

export class EngineProcesses {
  readonly #children = new Set<ChildProcess>();
  readonly #env: NodeJS.ProcessEnv;
  #closed = false;

  constructor(options: EngineProcessesOptions = {}) {
    this.#env = options.tmpdir === undefined ? process.env : { ...process.env, TMPDIR: options.tmpdir };
  }

  get running(): number {
    return this.#children.size;
  }

  run(command: string, args: readonly string[], options: EngineRunOptions): Promise<EngineOutput> {
    if (this.#closed) return Promise.reject(new ServiceError(503, 'SHUTTING_DOWN', 'service is shutting down'));
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: this.#env });
      this.#children.add(child);
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let stderr = '';
      let failure: ServiceError | undefined;
      const fail = (error: ServiceError): void => {
        failure ??= error;
        killGroup(child, 'SIGKILL');
      };
      const timer = setTimeout(() => fail(new ServiceError(504, 'ENGINE_TIMEOUT', `${command} took longer than ${options.timeoutMs} ms`)), options.timeoutMs);
      const onAbort = (): void => fail(new ServiceError(499, 'ENGINE_FAILED', `${command} aborted: the client went away`));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout?.on('data', (chunk: Buffer) => {
        stdoutBytes += chunk.length;
        if (stdoutBytes > options.maxOutputBytes) fail(new ServiceError(500, 'ENGINE_FAILED', `${command} produced more than ${options.maxOutputBytes} bytes`));
        else stdout.push(chunk);
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.length < STDERR_KEEP_BYTES) stderr += chunk.toString('utf8').slice(0, STDERR_KEEP_BYTES - stderr.length);
      });
      child.on('error', (err) => fail(new ServiceError(500, 'ENGINE_FAILED', `${command} could not start: ${err.message}`, { cause: err })));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#children.delete(child);
        if (failure) reject(failure);
        else if (code !== 0) reject(new ServiceError(500, 'ENGINE_FAILED', `${command} exited with ${code ?? signal}: ${stderr.trim().slice(0, 300)}`));
        else resolve({ stdout: Buffer.concat(stdout, stdoutBytes), stderr });
      });
    });
  }

  /** Kills every running child (and its process group). Idempotent. */
  killAll(): void {
    this.#closed = true;
    for (const child of this.#children) killGroup(child, 'SIGKILL');
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
