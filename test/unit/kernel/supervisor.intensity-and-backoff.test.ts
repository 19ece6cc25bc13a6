import { describe, expect, it } from 'vitest';
import { isKernelError } from '../../../src/kernel/errors.js';
import { supervisorChild } from '../../../src/kernel/supervisor.js';
import type { SupervisorEmitted } from '../../../src/kernel/supervisor.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { bootSupervisor, workerMachine } from '../../support/supervision-fixtures.js';

type Restarting = Extract<SupervisorEmitted, { type: 'supervisor.childRestarting' }>;

describe('supervisor restart intensity', () => {
  it('fails with SUPERVISOR_INTENSITY_EXCEEDED when a child restarts more than maxRestarts within withinMs', async () => {
    const log: string[] = [];
    const { actor, child, clock, errors } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, maxRestarts: 2, withinMs: 10_000, minBackoffMs: 0 }],
    });
    for (let i = 0; i < 2; i++) {
      child('w')!.send({ type: 'crash' });
      await clock.advanceAsync(1_000);
    }
    expect(actor.getSnapshot().status).toBe('active');
    child('w')!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    expect(actor.getSnapshot().status).toBe('error');
    expect(errors).toHaveLength(1);
    expect(isKernelError(errors[0])).toBe(true);
    expect(errors[0]).toMatchObject({ code: 'SUPERVISOR_INTENSITY_EXCEEDED', details: { supervisorId: 'sup', childId: 'w' } });
  });

  it('forgets restarts older than the window', async () => {
    const log: string[] = [];
    const { actor, child, clock } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, maxRestarts: 2, withinMs: 5_000, minBackoffMs: 0 }],
    });
    for (let i = 0; i < 6; i++) {
      child('w')!.send({ type: 'crash' });
      await clock.advanceAsync(3_000);
    }
    expect(actor.getSnapshot().status).toBe('active');
    expect(child('w')).toBeDefined();
  });

  it('escalates: a nested supervisor over its intensity fails and its parent restarts it with fresh children', async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const inner = supervisorChild(
      { id: 'inner', strategy: 'one_for_one', clock, random: () => 0, children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, maxRestarts: 1, withinMs: 60_000, minBackoffMs: 0 }] },
      { maxRestarts: 5, withinMs: 60_000, minBackoffMs: 0 },
    );
    const { actor, child, errors } = bootSupervisor({ id: 'outer', strategy: 'one_for_one', children: [inner] }, clock);
    const innerRef = child('inner')!;
    const worker = () => (innerRef.getSnapshot() as { context: { live: Record<string, { ref: { send(e: unknown): void } }> } }).context.live.w?.ref;
    worker()!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    worker()!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    expect(innerRef.getSnapshot().status).toBe('error');
    expect(actor.getSnapshot().status).toBe('active');
    expect(errors).toEqual([]);
    const restarted = child('inner')!;
    expect(restarted).not.toBe(innerRef);
    expect(restarted.getSnapshot().status).toBe('active');
    expect(log.filter((l) => l === 'start:w')).toHaveLength(3);
  });
});

describe('supervisor backoff', () => {
  it('grows exponentially and is capped, and the child is not started before the delay', async () => {
    const log: string[] = [];
    const { child, clock, emitted } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      random: () => 0,
      children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, maxRestarts: 100, withinMs: 3_600_000, minBackoffMs: 100, maxBackoffMs: 1_000 }],
    });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      child('w')!.send({ type: 'crash' });
      await clock.advanceAsync(0);
      const last = emitted.filter((e): e is Restarting => e.type === 'supervisor.childRestarting').at(-1)!;
      delays.push(last.delayMs);
      await clock.advanceAsync(last.delayMs - 1);
      expect(child('w')).toBeUndefined();
      await clock.advanceAsync(1);
      expect(child('w')).toBeDefined();
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('adds jitter of up to 20 % of the base delay', async () => {
    const log: string[] = [];
    const { child, clock, emitted } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      random: () => 0.999,
      children: [{ id: 'w', logic: workerMachine, input: { name: 'w', log }, minBackoffMs: 1_000, maxBackoffMs: 1_000 }],
    });
    child('w')!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    const restarting = emitted.find((e): e is Restarting => e.type === 'supervisor.childRestarting')!;
    expect(restarting.delayMs).toBeGreaterThan(1_000);
    expect(restarting.delayMs).toBeLessThanOrEqual(1_200);
  });
});
