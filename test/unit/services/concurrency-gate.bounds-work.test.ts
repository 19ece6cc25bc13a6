/**
 * The gate runs at most `maxInFlight` at once, queues at most `maxQueue` in arrival order and
 * refuses the rest at once (the service answers 503 + Retry-After).
 */
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../../native/services/shared/concurrency-gate.js';

describe('ConcurrencyGate', () => {
  it('admits, queues in order, refuses beyond the queue, and hands slots on release', async () => {
    const gate = new ConcurrencyGate({ maxInFlight: 1, maxQueue: 2 });
    const first = await gate.tryAcquire();
    const order: string[] = [];
    const second = gate.tryAcquire()?.then((release) => (order.push('second'), release));
    const third = gate.tryAcquire()?.then((release) => (order.push('third'), release));
    expect(gate.tryAcquire()).toBeUndefined();
    expect([gate.inFlight, gate.queued]).toEqual([1, 2]);
    first?.();
    (await second)?.();
    (await third)?.();
    expect(order).toEqual(['second', 'third']);
    await gate.idle();
    expect([gate.inFlight, gate.queued]).toEqual([0, 0]);
  });

  it('takes an aborted waiter out of the queue', async () => {
    const gate = new ConcurrencyGate({ maxInFlight: 1, maxQueue: 1 });
    const release = await gate.tryAcquire();
    const controller = new AbortController();
    const waiting = gate.tryAcquire(controller.signal);
    controller.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
    expect(gate.queued).toBe(0);
    release?.();
    expect(gate.inFlight).toBe(0);
  });

  it('a release called twice frees one slot only', async () => {
    const gate = new ConcurrencyGate({ maxInFlight: 2, maxQueue: 0 });
    const a = await gate.tryAcquire();
    await gate.tryAcquire();
    a?.();
    a?.();
    expect(gate.inFlight).toBe(1);
  });
});
