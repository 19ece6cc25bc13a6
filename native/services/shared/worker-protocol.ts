/**
 * The message protocol between a service's HTTP thread (`WorkerPool`) and its engine worker
 * threads, and `serveTasks`, the worker side of it. A worker loads its engine once, says `ready`,
 * then answers one task per message; a `ServiceError` thrown by a task keeps its status and code
 * across the thread boundary (a structured clone would lose the class).
 */
import { parentPort } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';
import { ServiceError, isServiceError } from './service-error.js';
import type { ServiceErrorCode } from './service-error.js';

export interface WorkerTask<TTask> {
  id: number;
  task: TTask;
}

export type WorkerReply<TResult> =
  | { type: 'ready'; initMs: number }
  | { type: 'init_failed'; message: string }
  | { type: 'result'; id: number; result: TResult }
  | { type: 'error'; id: number; status: number; code: ServiceErrorCode; message: string };

/** What a task handler returns: the result, and buffers inside it to move rather than copy. */
export interface TaskOutput<TResult> {
  result: TResult;
  transfer?: Transferable[];
}

export type TaskHandler<TTask, TResult> = (task: TTask) => TaskOutput<TResult>;

/**
 * Runs in a worker thread: `load` prepares the engine once (it may throw: the pool then reports
 * the start as failed), and the handler it returns answers each task, synchronously, in order.
 */
export function serveTasks<TTask, TResult>(engineName: string, load: () => TaskHandler<TTask, TResult>): void {
  const port = parentPort;
  if (!port) throw new Error(`${engineName} worker must run in a worker thread`);
  const reply = (message: WorkerReply<TResult>, transfer: Transferable[] = []): void => port.postMessage(message, transfer);
  const started = performance.now();
  let handle: TaskHandler<TTask, TResult>;
  try {
    handle = load();
  } catch (err) {
    reply({ type: 'init_failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  reply({ type: 'ready', initMs: performance.now() - started });
  port.on('message', ({ id, task }: WorkerTask<TTask>) => {
    try {
      const { result, transfer } = handle(task);
      reply({ type: 'result', id, result }, transfer);
    } catch (err) {
      const error = isServiceError(err) ? err : new ServiceError(500, 'ENGINE_FAILED', `${engineName}: ${err instanceof Error ? err.message : String(err)}`);
      reply({ type: 'error', id, status: error.status, code: error.code, message: error.message });
    }
  });
}
