/**
 * The injectable clock. Every timer in linguamesh (heartbeats, debounce, backoff, timeouts, leases)
 * goes through a `Clock`, so tests run them under fake time (ARCHITECTURE.md, "Clock"). The shape
 * is a superset of XState's own clock (`setTimeout`/`clearTimeout`), so the same object is passed
 * to `createActor(…, { clock })` and delayed transitions follow it too.
 */

export type TimerId = { readonly __timer: unique symbol } | number | object;

export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId | undefined): void;
}

/** The real clock. Timers are plain Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (id) => {
    if (id !== undefined) globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>);
  },
};

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in time order (ties in
 * scheduling order), including timers those callbacks schedule inside the window.
 * `advanceAsync(ms)` does the same but lets promise callbacks and I/O callbacks run between timers,
 * for code under test that awaits between steps.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(startMs = 1_767_225_600_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: TimerId | undefined): void {
    if (typeof id === 'number') this.timers.delete(id);
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.size;
  }

  /** Time of the earliest pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers.values()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.takeDue(target);
      if (!due) break;
      this.current = due.at;
      due.fn();
    }
    this.current = target;
  }

  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushIo();
    for (;;) {
      const due = this.takeDue(target);
      if (!due) break;
      this.current = due.at;
      due.fn();
      await flushIo();
    }
    this.current = target;
    await flushIo();
  }

  /** Fires every timer due now (zero-delay timers), without moving time. */
  runDue(): void {
    this.advance(0);
  }

  private takeDue(target: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    if (best) this.timers.delete(best.id);
    return best;
  }
}

/** Lets pending promise reactions and one round of I/O callbacks run. */
export async function flushIo(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise that resolves after `ms` on `clock`, or rejects when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(id);
      reject(signal?.reason);
    };
    const id = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
