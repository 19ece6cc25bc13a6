/**
 * A small pool of engine worker threads, each loading its engine once (STYLE.md §9, without
 * piscina: a service bundle carries only what it runs). Tasks go to an idle worker or wait in
 * arrival order (the HTTP gate bounds how many can wait). A worker that dies or overruns its
 * deadline is replaced within a restart budget, and only after the old thread has exited: engines
 * such as PocketSphinx and eSpeak NG keep global state that two loading threads would share.
 */
import { Worker } from 'node:worker_threads';
import type { Transferable } from 'node:worker_threads';
import { ServiceError } from './service-error.js';
import type { ServiceLog } from './service-log.js';
import type { WorkerReply, WorkerTask } from './worker-protocol.js';

export interface WorkerPoolOptions {
  /** Engine name for logs and errors. */
  engine: string;
  /** Worker threads, each with its own engine instance. */
  size: number;
  workerUrl: URL;
  workerData: unknown;
  /** Longest one task may run, in ms, before its worker is replaced. */
  taskTimeoutMs: number;
  /** Longest a worker may take to load its engine, in ms. */
  initTimeoutMs: number;
  log: ServiceLog;
}

interface Pending<TTask, TResult> {
  id: number;
  task: TTask;
  transfer: readonly Transferable[];
  resolve: (result: TResult) => void;
  reject: (err: unknown) => void;
}

interface Slot<TTask, TResult> {
  worker: Worker;
  pending: Pending<TTask, TResult> | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** At most this many replacements per minute; beyond it the pool stops respawning. */
const MAX_RESTARTS_PER_MINUTE = 5;

export class WorkerPool<TTask, TResult> {
  readonly #options: WorkerPoolOptions;
  readonly #slots = new Set<Slot<TTask, TResult>>();
  readonly #queue: Pending<TTask, TResult>[] = [];
  readonly #restarts: number[] = [];
  #nextId = 1;
  /** Replacement workers on their way; tasks wait for them rather than fail. */
  #replacing = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Starts the workers one after another: engines keep some state global while they load. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#options.size; i += 1) this.#adopt(await this.#spawn());
  }

  /** Runs one task; the buffers in `transfer` move to the worker and must not be touched again. */
  run(task: TTask, transfer: readonly Transferable[] = [], signal?: AbortSignal): Promise<TResult> {
    if (this.#closed) return Promise.reject(new ServiceError(503, 'SHUTTING_DOWN', `${this.#options.engine} pool is closed`));
    if (this.#slots.size === 0 && this.#replacing === 0) return Promise.reject(new ServiceError(500, 'ENGINE_FAILED', `no ${this.#options.engine} worker is running`));
    return new Promise((resolve, reject) => {
      const pending: Pending<TTask, TResult> = { id: this.#nextId++, task, transfer, resolve, reject };
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#queue.indexOf(pending);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const error = new ServiceError(503, 'SHUTTING_DOWN', 'service is shutting down');
    for (const pending of this.#queue.splice(0)) pending.reject(error);
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.pending?.reject(error);
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(): Promise<Worker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.#options.workerUrl, { workerData: this.#options.workerData });
      const fail = (error: Error): void => {
        cleanup();
        void worker.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`${this.#options.engine} worker did not load within ${this.#options.initTimeoutMs} ms`)), this.#options.initTimeoutMs);
      const onMessage = (message: WorkerReply<TResult>): void => {
        if (message.type === 'ready') {
          cleanup();
          this.#options.log.info({ engine: this.#options.engine, initMs: Math.round(message.initMs) }, 'engine worker loaded');
          resolve(worker);
        } else if (message.type === 'init_failed') {
          fail(new Error(message.message));
        }
      };
      const onExit = (code: number): void => fail(new Error(`${this.#options.engine} worker exited with ${code} while loading`));
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', fail);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', fail);
      worker.on('exit', onExit);
    });
  }

  #adopt(worker: Worker): void {
    const slot: Slot<TTask, TResult> = { worker, pending: undefined, timer: undefined };
    const engine = this.#options.engine;
    this.#slots.add(slot);
    worker.on('message', (message: WorkerReply<TResult>) => this.#onReply(slot, message));
    worker.on('error', (err) => this.#replace(slot, new ServiceError(500, 'ENGINE_FAILED', `${engine} worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#replace(slot, new ServiceError(500, 'ENGINE_FAILED', `${engine} worker exited with ${code}`)));
    this.#dispatch();
  }

  #onReply(slot: Slot<TTask, TResult>, message: WorkerReply<TResult>): void {
    const pending = slot.pending;
    if (!pending || (message.type !== 'result' && message.type !== 'error') || message.id !== pending.id) return;
    clearTimeout(slot.timer);
    slot.pending = undefined;
    slot.timer = undefined;
    if (message.type === 'result') pending.resolve(message.result);
    else pending.reject(new ServiceError(message.status, message.code, message.message));
    this.#dispatch();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.pending) continue;
      const pending = this.#queue.shift();
      if (!pending) return;
      slot.pending = pending;
      slot.timer = setTimeout(
        () => this.#replace(slot, new ServiceError(504, 'ENGINE_TIMEOUT', `${this.#options.engine} took longer than ${this.#options.taskTimeoutMs} ms`)),
        this.#options.taskTimeoutMs,
      );
      const message: WorkerTask<TTask> = { id: pending.id, task: pending.task };
      slot.worker.postMessage(message, [...pending.transfer]);
    }
  }

  /** Fails the slot's task, drops its worker and, once that thread is gone, starts a replacement. */
  #replace(slot: Slot<TTask, TResult>, error: ServiceError): void {
    if (!this.#slots.delete(slot)) return;
    clearTimeout(slot.timer);
    slot.pending?.reject(error);
    slot.pending = undefined;
    if (this.#closed) return;
    const now = Date.now();
    while (this.#restarts.length > 0 && now - (this.#restarts[0] ?? 0) > 60_000) this.#restarts.shift();
    if (this.#restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.#options.log.error({ engine: this.#options.engine, code: error.code }, 'engine worker lost; restart budget spent, not replacing it');
      void slot.worker.terminate();
      this.#failQueueIfStranded(error);
      return;
    }
    this.#restarts.push(now);
    this.#replacing += 1;
    this.#options.log.warn({ engine: this.#options.engine, code: error.code }, 'engine worker lost; replacing it');
    // terminate() resolves when the thread has exited, which for a thread inside a native call is
    // when that call returns: only then may a new thread load the engine.
    slot.worker
      .terminate()
      .then(() => (this.#closed ? undefined : this.#spawn()))
      .then(
        (worker) => worker && (this.#closed ? void worker.terminate() : this.#adopt(worker)),
        (err: unknown) => this.#options.log.error({ err, engine: this.#options.engine }, 'replacement engine worker failed to load'),
      )
      .finally(() => {
        this.#replacing -= 1;
        this.#failQueueIfStranded(error);
      });
  }

  /** With no worker left and none coming, what waits would wait forever: fail it instead. */
  #failQueueIfStranded(error: ServiceError): void {
    if (this.#slots.size === 0 && this.#replacing === 0) for (const pending of this.#queue.splice(0)) pending.reject(error);
  }
}
