/**
 * A small pool of decoder worker threads, each holding one PocketSphinx decoder loaded once. Tasks
 * go to an idle worker or wait in arrival order (the HTTP gate bounds how many can wait). A worker
 * that dies or overruns its deadline is replaced, within a restart budget.
 */
import { Worker } from 'node:worker_threads';
import { ServiceError } from '../shared/service-error.js';
import type { ServiceLog } from '../shared/service-log.js';
import type { EncodedAudio } from './utterance-audio.js';
import type { DecodeResult, DecoderReply, DecoderWorkerData, DecodeTask } from './worker-messages.js';

export interface DecoderPoolOptions {
  /** Worker threads, each with its own decoder (and its own copy of the model in memory). */
  size: number;
  workerUrl: URL;
  workerData: DecoderWorkerData;
  /** Longest one decode may run, in ms, before its worker is replaced. */
  decodeTimeoutMs: number;
  /** Longest a worker may take to load the model, in ms. */
  initTimeoutMs: number;
  log: ServiceLog;
}

interface Pending {
  id: number;
  audio: EncodedAudio;
  signal: AbortSignal | undefined;
  resolve: (result: DecodeResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  task: Pending | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** At most this many replacements per minute; beyond it the pool stops respawning. */
const MAX_RESTARTS_PER_MINUTE = 5;

export class DecoderPool {
  readonly #options: DecoderPoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #queue: Pending[] = [];
  readonly #restarts: number[] = [];
  #nextId = 1;
  /** Replacement workers still loading; tasks wait for them rather than fail. */
  #replacing = 0;
  #closed = false;

  constructor(options: DecoderPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Starts the workers one after another: pocketsphinx keeps some state global while it loads. */
  async start(): Promise<void> {
    for (let i = 0; i < this.#options.size; i += 1) this.#adopt(await this.#spawn());
  }

  decode(audio: EncodedAudio, signal?: AbortSignal): Promise<DecodeResult> {
    if (this.#closed) return Promise.reject(new ServiceError(503, 'SHUTTING_DOWN', 'decoder pool is closed'));
    if (this.#slots.size === 0 && this.#replacing === 0) return Promise.reject(new ServiceError(500, 'ENGINE_FAILED', 'no decoder worker is running'));
    return new Promise((resolve, reject) => {
      const pending: Pending = { id: this.#nextId++, audio, signal, resolve, reject };
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
    for (const pending of this.#queue.splice(0)) pending.reject(new ServiceError(503, 'SHUTTING_DOWN', 'service is shutting down'));
    const slots = [...this.#slots];
    this.#slots.clear();
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.task?.reject(new ServiceError(503, 'SHUTTING_DOWN', 'service is shutting down'));
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #spawn(): Promise<Worker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.#options.workerUrl, { workerData: this.#options.workerData });
      const timer = setTimeout(() => {
        cleanup();
        void worker.terminate();
        reject(new Error(`decoder worker did not load within ${this.#options.initTimeoutMs} ms`));
      }, this.#options.initTimeoutMs);
      const onMessage = (message: DecoderReply): void => {
        if (message.type === 'ready') {
          cleanup();
          this.#options.log.info({ initMs: Math.round(message.initMs) }, 'decoder worker loaded');
          resolve(worker);
        } else if (message.type === 'init_failed') {
          cleanup();
          void worker.terminate();
          reject(new Error(message.message));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`decoder worker exited with ${code} while loading`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  #adopt(worker: Worker): void {
    const slot: Slot = { worker, task: undefined, timer: undefined };
    this.#slots.add(slot);
    worker.on('message', (message: DecoderReply) => this.#onReply(slot, message));
    worker.on('error', (err) => this.#replace(slot, new ServiceError(500, 'ENGINE_FAILED', `decoder worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#replace(slot, new ServiceError(500, 'ENGINE_FAILED', `decoder worker exited with ${code}`)));
    this.#dispatch();
  }

  #onReply(slot: Slot, message: DecoderReply): void {
    const task = slot.task;
    if (!task || (message.type !== 'result' && message.type !== 'error') || message.id !== task.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    slot.timer = undefined;
    if (message.type === 'result') {
      const { type: _type, id: _id, ...result } = message;
      task.resolve(result);
    } else {
      task.reject(new ServiceError(message.status, message.code, message.message));
    }
    this.#dispatch();
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.task) continue;
      const pending = this.#queue.shift();
      if (!pending) return;
      slot.task = pending;
      slot.timer = setTimeout(
        () => this.#replace(slot, new ServiceError(504, 'ENGINE_TIMEOUT', `decoding took longer than ${this.#options.decodeTimeoutMs} ms`)),
        this.#options.decodeTimeoutMs,
      );
      const task: DecodeTask = { id: pending.id, audio: pending.audio };
      // The bytes move to the worker; this thread must not touch them again. Their buffer is always
      // a plain ArrayBuffer of their own (checkUtteranceAudio copies), never a SharedArrayBuffer.
      slot.worker.postMessage(task, [pending.audio.bytes.buffer as ArrayBuffer]);
    }
  }

  /** Fails the slot's task, drops the worker and starts a replacement within the restart budget. */
  #replace(slot: Slot, error: ServiceError): void {
    if (!this.#slots.delete(slot)) return;
    clearTimeout(slot.timer);
    slot.task?.reject(error);
    slot.task = undefined;
    // A worker stuck in a native call stops when the call returns; terminate() marks it for that.
    void slot.worker.terminate();
    if (this.#closed) return;
    const now = Date.now();
    while (this.#restarts.length > 0 && now - (this.#restarts[0] ?? 0) > 60_000) this.#restarts.shift();
    if (this.#restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.#options.log.error({ code: error.code }, 'decoder worker lost; restart budget spent, not replacing it');
      if (this.#slots.size === 0 && this.#replacing === 0) for (const pending of this.#queue.splice(0)) pending.reject(error);
      return;
    }
    this.#restarts.push(now);
    this.#replacing += 1;
    this.#options.log.warn({ code: error.code }, 'decoder worker lost; replacing it');
    this.#spawn()
      .then(
        (worker) => (this.#closed ? void worker.terminate() : this.#adopt(worker)),
        (err: unknown) => this.#options.log.error({ err }, 'replacement decoder worker failed to load'),
      )
      .finally(() => {
        this.#replacing -= 1;
        // Nothing left to run the queue: fail what waits instead of leaving it hanging.
        if (this.#slots.size === 0 && this.#replacing === 0) for (const pending of this.#queue.splice(0)) pending.reject(error);
      });
  }
}
