/**
 * Bounds the work a service does at once: at most `maxInFlight` requests run, at most `maxQueue`
 * wait in arrival order, and anything beyond is refused at once so the caller can answer 503 with
 * `Retry-After` (PROTOCOL.md §9.1) instead of queueing without bound.
 */

export interface ConcurrencyGateOptions {
  /** Requests running at once. */
  maxInFlight: number;
  /** Requests waiting for a slot. */
  maxQueue: number;
}

export type ReleaseSlot = () => void;

interface Waiter {
  grant: (release: ReleaseSlot) => void;
  reject: (reason: unknown) => void;
}

export class ConcurrencyGate {
  readonly #options: ConcurrencyGateOptions;
  readonly #waiters: Waiter[] = [];
  readonly #idleListeners = new Set<() => void>();
  #inFlight = 0;

  constructor(options: ConcurrencyGateOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#waiters.length;
  }

  /**
   * A slot now, a promise of one when the queue has room, or `undefined` when the service is full.
   * An aborted `signal` takes a waiter out of the queue (its client went away).
   */
  tryAcquire(signal?: AbortSignal): Promise<ReleaseSlot> | undefined {
    if (this.#inFlight < this.#options.maxInFlight) {
      this.#inFlight += 1;
      return Promise.resolve(this.#makeRelease());
    }
    if (this.#waiters.length >= this.#options.maxQueue) return undefined;
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject,
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.#inFlight === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = (): void => {
        this.#idleListeners.delete(listener);
        resolve();
      };
      this.#idleListeners.add(listener);
    });
  }

  #makeRelease(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // The slot passes straight to the next waiter, so a burst cannot overtake the queue.
      if (next) {
        next.grant(this.#makeRelease());
        return;
      }
      this.#inFlight -= 1;
      if (this.#inFlight === 0) for (const listener of [...this.#idleListeners]) listener();
    };
  }
}
