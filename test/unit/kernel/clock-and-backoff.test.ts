import { describe, expect, it } from 'vitest';
import { backoffBaseMs, backoffDelayMs, withinIntensity } from '../../../src/kernel/backoff.js';
import { FakeClock, sleep } from '../../../src/kernel/clock.js';

describe('fake clock', () => {
  it('fires timers in time order, including ones scheduled by earlier callbacks inside the window', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 50);
    }, 100);
    const cancelled = clock.setTimeout(() => fired.push('never'), 120);
    clock.clearTimeout(cancelled);
    clock.advance(199);
    expect(fired).toEqual(['a@100', 'c@150']);
    clock.advance(1);
    expect(fired).toEqual(['a@100', 'c@150', 'b@200']);
    expect(clock.now()).toBe(200);
  });

  it('sleep resolves on the clock and rejects on abort', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = sleep(clock, 1_000).then(() => (done = true));
    await clock.advanceAsync(999);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await p;
    expect(done).toBe(true);
    const controller = new AbortController();
    const aborted = sleep(clock, 1_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });
});

describe('backoff', () => {
  it('doubles from the minimum to the cap (PROTOCOL.md §3.1: 5, 10, 20, 40, 60, 60 s)', () => {
    const options = { minMs: 5_000, maxMs: 60_000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffBaseMs(n, options))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  });

  it('adds up to 20 % jitter', () => {
    const options = { minMs: 5_000, maxMs: 60_000 };
    expect(backoffDelayMs(0, options, () => 0)).toBe(5_000);
    expect(backoffDelayMs(0, options, () => 0.5)).toBe(5_500);
    expect(backoffDelayMs(4, options, () => 0.9999)).toBeLessThanOrEqual(72_000);
  });

  it('intensity keeps a sliding window', () => {
    let history: number[] = [];
    const results = [0, 1_000, 2_000, 7_500].map((t) => {
      const r = withinIntensity(history, t, 2, 5_000);
      history = r.history;
      return r.ok;
    });
    expect(results).toEqual([true, true, false, true]);
  });
});
