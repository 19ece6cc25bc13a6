/**
 * Capped exponential backoff with jitter, and the restart-intensity window. Shared by the
 * supervisor, the node's link (PROTOCOL.md §3.1) and the service lifecycle.
 */

export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  minMs: number;
  /** Upper bound of the base delay, in ms. */
  maxMs: number;
  /** Growth factor per consecutive attempt. Default 2. */
  factor?: number;
  /** Extra random delay as a fraction of the base delay (0.2 = up to +20 %). Default 0.2. */
  jitter?: number;
}

/** Base delay of attempt n (n = 0, 1, …): min(maxMs, minMs · factorⁿ). */
export function backoffBaseMs(attempt: number, options: BackoffOptions): number {
  const factor = options.factor ?? 2;
  if (options.minMs <= 0) return 0;
  const raw = options.minMs * Math.pow(factor, Math.max(0, attempt));
  return Math.min(options.maxMs, raw);
}

/**
 * Delay of attempt n: uniformly random in [d, d · (1 + jitter)] with d the base delay.
 * `random` is injectable so tests can pin the jitter.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = backoffBaseMs(attempt, options);
  const jitter = options.jitter ?? 0.2;
  return Math.round(base * (1 + jitter * random()));
}

/**
 * Restart intensity: at most `maxRestarts` restarts within a sliding window of `withinMs`.
 * `record` adds a restart at `now` and answers whether the budget still holds.
 */
export function withinIntensity(history: readonly number[], now: number, maxRestarts: number, withinMs: number): { history: number[]; ok: boolean } {
  const kept = history.filter((t) => now - t < withinMs);
  kept.push(now);
  return { history: kept, ok: kept.length <= maxRestarts };
}
