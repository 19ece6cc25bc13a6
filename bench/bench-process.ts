/**
 * A bench process of its own (a server or a fleet of simulated nodes), driven over IPC: one
 * command at a time, each answered before the next is sent. Shared by bench/scheduler.ts and
 * bench/fleet.ts, so that each process's CPU and memory are its own.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface Endpoint {
  child: ChildProcess;
  request<T>(message: unknown): Promise<T>;
}

/** Forks `file` (a path relative to bench/) with `args`; resolves with its first message, its hello. */
export function startBenchProcess(file: string, args: string[]): Promise<{ endpoint: Endpoint; hello: Record<string, unknown> }> {
  const child = fork(new URL(file, import.meta.url).pathname, args, { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting: { resolve: (reply: unknown) => void; reject: (err: Error) => void } | undefined;
  child.on('message', (reply) => {
    const w = waiting;
    waiting = undefined;
    w?.resolve(reply);
  });
  child.on('exit', (code) => waiting?.reject(new Error(`${file} exited with ${code}`)));
  const request = <T>(message: unknown) =>
    new Promise<T>((resolve, reject) => {
      waiting = { resolve: (reply) => resolve(reply as T), reject };
      child.send(message as object);
    });
  return new Promise((resolve, reject) => {
    waiting = { resolve: (hello) => resolve({ endpoint: { child, request }, hello: hello as Record<string, unknown> }), reject };
  });
}
