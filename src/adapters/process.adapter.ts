/**
 * OS processes over `node:child_process` (ProcessPort). Each service process leads its own process
 * group (`detached: true`), so one signal to `-pid` reaches everything it started; when the leader
 * exits, whatever is left of its group is killed at once, so no grandchild outlives its service.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { OutputStream, ProcessExit, ProcessHandle, ProcessIdentity, ProcessPort, ProcessSignal } from '../kernel/ports/process.port.js';

/** Splits a byte stream into lines; a line longer than `maxChars` is passed on in pieces. */
export function createLineSplitter(maxChars: number, onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const drain = () => {
    for (;;) {
      const newline = pending.indexOf('\n');
      if (newline >= 0 && newline <= maxChars) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
      } else if (pending.length > maxChars) {
        // Bounded: a process that never writes a newline cannot grow this buffer.
        onLine(pending.slice(0, maxChars));
        pending = pending.slice(maxChars);
      } else {
        return;
      }
    }
  };
  return {
    push(chunk) {
      pending += decoder.write(chunk);
      drain();
    },
    end() {
      pending += decoder.end();
      drain();
      if (pending !== '') onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

function signalGroup(pgid: number, signal: ProcessSignal | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    // EPERM: the group exists but belongs to someone else; it is not ours to signal.
    return errnoOf(err) === 'EPERM' && signal === 0;
  }
}

/** Linux: start time (clock ticks since boot) and state from /proc; undefined for a zombie or no process. */
async function identifyFromProc(pid: number): Promise<ProcessIdentity | undefined | 'unsupported'> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') {
      try {
        await readFile('/proc/self/stat', 'utf8');
        return undefined;
      } catch {
        return 'unsupported';
      }
    }
    return undefined;
  }
  // `pid (comm) state ppid pgrp … starttime …`: comm may hold spaces and parentheses, so fields are
  // counted from the last `)`. starttime is field 22, i.e. index 19 after the state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const startTime = fields[19];
  if (startTime === undefined) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return { pid, startTime, commandLine: cmdline.split('\0').filter(Boolean).join(' ') };
}

/** Elsewhere (macOS, BSD): `ps -o lstart=,command=`. */
function identifyFromPs(pid: number, signal: AbortSignal): Promise<ProcessIdentity | undefined> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'lstart=', '-o', 'command=', '-p', String(pid)], { signal, timeout: 5_000 }, (err, stdout) => {
      const line = stdout.trim();
      if (err || line === '') {
        resolve(undefined);
        return;
      }
      // lstart is a fixed-width date such as `Mon Nov 25 13:44:01 2024` (24 characters).
      resolve({ pid, startTime: line.slice(0, 24), commandLine: line.slice(24).trim() });
    });
  });
}

async function identify(pid: number, signal: AbortSignal): Promise<ProcessIdentity | undefined> {
  const fromProc = await identifyFromProc(pid);
  return fromProc === 'unsupported' ? identifyFromPs(pid, signal) : fromProc;
}

function handleFor(child: ChildProcess, pid: number, identity: Promise<ProcessIdentity | undefined>, exited: Promise<ProcessExit>, hasExited: () => boolean): ProcessHandle {
  return {
    pid,
    identity,
    exited,
    hasExited,
    signalGroup(signal) {
      // After the leader's exit the group was killed already; signalling it again is harmless.
      if (!signalGroup(pid, signal) && !hasExited()) child.kill(signal);
    },
  };
}

export function createProcessAdapter(): ProcessPort {
  return {
    spawn(spec, onLine, signal) {
      return new Promise<ProcessHandle>((resolve, reject) => {
        if (signal.aborted) {
          reject(new AbortedError('spawn aborted'));
          return;
        }
        // A service.json `node` command runs on the node's own runtime, whatever PATH says.
        const command = spec.command === 'node' ? process.execPath : spec.command;
        let child: ChildProcess;
        try {
          child = spawn(command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        } catch (err) {
          reject(new KernelError('SPAWN_FAILED', `cannot start ${spec.command}: ${(err as Error).message}`, { cause: err, details: { command: spec.command, cwd: spec.cwd } }));
          return;
        }
        let spawned = false;
        let done = false;
        let settleExit!: (exit: ProcessExit) => void;
        const exited = new Promise<ProcessExit>((r) => (settleExit = r));
        for (const stream of ['stdout', 'stderr'] as const satisfies OutputStream[]) {
          const splitter = createLineSplitter(spec.maxLineChars, (line) => onLine(stream, line));
          child[stream]?.on('data', (chunk: Buffer) => splitter.push(chunk));
          child[stream]?.on('end', () => splitter.end());
        }
        child.once('error', (err) => {
          if (spawned) return;
          done = true;
          reject(new KernelError('SPAWN_FAILED', `cannot start ${spec.command}: ${err.message}`, { cause: err, details: { command: spec.command, cwd: spec.cwd, errno: errnoOf(err) } }));
        });
        child.once('exit', (code, exitSignal) => {
          done = true;
          // The leader is gone: kill whatever it left in its group (grandchildren), so none survives.
          if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
          settleExit({ code, signal: exitSignal });
        });
        child.once('spawn', () => {
          spawned = true;
          const pid = child.pid!;
          // Read at once (the pid must still be this process), but not on the start's critical path.
          const identity = identify(pid, signal).catch(() => undefined);
          resolve(handleFor(child, pid, identity, exited, () => done));
        });
      });
    },
    identify,
    signalGroup: (pgid, signal) => signalGroup(pgid, signal),
    groupAlive: (pgid) => signalGroup(pgid, 0),
  };
}
