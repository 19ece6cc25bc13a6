import { createActor, fromCallback, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/kernel/clock.js';
import { supervisorChild, supervisorMachine } from '../../../src/kernel/supervisor.js';
import { bootSupervisor, workerMachine } from '../../support/supervision-fixtures.js';

describe('supervisor shutdown', () => {
  it('stops children in reverse start order, forcing one that ignores the request after its shutdownMs', async () => {
    const log: string[] = [];
    const { actor, clock } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      children: [
        { id: 'a', logic: workerMachine, input: { name: 'a', log, shutdownDelayMs: 50 }, shutdownMs: 1_000 },
        { id: 'b', logic: workerMachine, input: { name: 'b', log, stubborn: true }, shutdownMs: 2_000 },
        { id: 'c', logic: workerMachine, input: { name: 'c', log, shutdownDelayMs: 10 }, shutdownMs: 1_000 },
      ],
    });
    log.length = 0;
    actor.send({ type: 'supervisor.shutdown' });
    await clock.advanceAsync(10);
    expect(log).toEqual(['shutdown:c', 'stop:c']);
    await clock.advanceAsync(1_999);
    expect(log).toEqual(['shutdown:c', 'stop:c']);
    expect(actor.getSnapshot().status).toBe('active');
    await clock.advanceAsync(1);
    expect(log).toEqual(['shutdown:c', 'stop:c', 'stop:b', 'shutdown:a']);
    await clock.advanceAsync(50);
    expect(log).toEqual(['shutdown:c', 'stop:c', 'stop:b', 'shutdown:a', 'stop:a']);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('a nested supervisor shuts its own children down before its parent moves on', async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const { actor } = bootSupervisor(
      {
        id: 'root',
        strategy: 'one_for_one',
        children: [
          { id: 'first', logic: workerMachine, input: { name: 'first', log }, shutdownMs: 100 },
          supervisorChild({ id: 'inner', strategy: 'one_for_one', clock, children: [
            { id: 'x', logic: workerMachine, input: { name: 'x', log }, shutdownMs: 100 },
            { id: 'y', logic: workerMachine, input: { name: 'y', log, shutdownDelayMs: 30 }, shutdownMs: 100 },
          ] }),
        ],
      },
      clock,
    );
    log.length = 0;
    actor.send({ type: 'supervisor.shutdown' });
    await clock.advanceAsync(100);
    expect(log).toEqual(['shutdown:y', 'stop:y', 'shutdown:x', 'stop:x', 'shutdown:first', 'stop:first']);
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('children with shutdownMs 0 are stopped at once', async () => {
    const log: string[] = [];
    const { actor, clock } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      children: [
        { id: 'a', logic: workerMachine, input: { name: 'a', log, stubborn: true }, shutdownMs: 0 },
        { id: 'b', logic: workerMachine, input: { name: 'b', log, stubborn: true }, shutdownMs: 0 },
      ],
    });
    log.length = 0;
    actor.send({ type: 'supervisor.shutdown' });
    await clock.advanceAsync(0);
    expect(log).toEqual(['stop:b', 'stop:a']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('supervisor identities and run-time children', () => {
  it('a restarted child with a systemId gets a new actor registered under the same id, without collision', async () => {
    const log: string[] = [];
    const { actor, child, clock, errors } = bootSupervisor({
      id: 'sup',
      strategy: 'one_for_one',
      children: [{ id: 'link', systemId: 'link', logic: workerMachine, input: { name: 'link', log }, minBackoffMs: 0 }],
    });
    const first = actor.system.get('link');
    expect(first).toBe(child('link'));
    first!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    const second = actor.system.get('link');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(second).toBe(child('link'));
    // A restart forced by the operator also swaps the registration cleanly.
    actor.send({ type: 'supervisor.restartChild', id: 'link' });
    await clock.advanceAsync(0);
    expect(actor.system.get('link')).not.toBe(second);
    expect(errors).toEqual([]);
  });

  it('adds and removes children at run time', async () => {
    const log: string[] = [];
    const { actor, child, clock } = bootSupervisor({ id: 'jobs', strategy: 'one_for_one' });
    actor.send({ type: 'supervisor.startChild', spec: { id: 'job:1', logic: workerMachine, input: { name: 'job:1', log }, restart: 'temporary' } });
    actor.send({ type: 'supervisor.startChild', spec: { id: 'job:2', logic: workerMachine, input: { name: 'job:2', log, shutdownDelayMs: 5 }, restart: 'temporary', shutdownMs: 100 } });
    await clock.advanceAsync(0);
    expect(child('job:1')).toBeDefined();
    actor.send({ type: 'supervisor.terminateChild', id: 'job:2' });
    await clock.advanceAsync(5);
    expect(child('job:2')).toBeUndefined();
    expect(actor.getSnapshot().context.specs.map((s) => s.id)).toEqual(['job:1']);
    expect(log).toEqual(['start:job:1', 'start:job:2', 'shutdown:job:2', 'stop:job:2']);
  });
});

describe('isolation of failures', () => {
  it('a throw deep in a nested child neither crashes the process nor stops its siblings under one_for_one', async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const leaf = setup({
      actors: {
        tick: fromCallback<{ type: 'boom' }>(({ receive }) => {
          log.push('start:leaf');
          receive(() => {
            throw new Error('boom in a grandchild callback');
          });
          return () => log.push('stop:leaf');
        }),
      },
    }).createMachine({ invoke: { id: 'tick', src: 'tick' }, on: { boom: { actions: ({ self }) => (self.getSnapshot().children.tick as { send(e: unknown): void }).send({ type: 'boom' }) } } });
    const root = createActor(supervisorMachine, {
      clock,
      input: {
        id: 'root',
        strategy: 'one_for_one',
        clock,
        children: [
          supervisorChild({ id: 'mid', strategy: 'one_for_one', clock, children: [
            supervisorChild({ id: 'deep', strategy: 'one_for_one', clock, random: () => 0, children: [
              { id: 'leaf', logic: leaf, minBackoffMs: 0 },
              { id: 'sibling', logic: workerMachine, input: { name: 'sibling', log } },
            ] }),
          ] }),
        ],
      },
    });
    const errors: unknown[] = [];
    root.subscribe({ error: (e) => errors.push(e) });
    root.start();
    const deep = (root.getSnapshot().context.live.mid!.ref.getSnapshot() as { context: { live: Record<string, { ref: { getSnapshot(): { context: { live: Record<string, { ref: { send(e: unknown): void } }> } } } }> } }).context.live.deep!.ref;
    const sibling = deep.getSnapshot().context.live.sibling!.ref;
    deep.getSnapshot().context.live.leaf!.ref.send({ type: 'boom' });
    await clock.advanceAsync(0);
    expect(errors).toEqual([]);
    expect(root.getSnapshot().status).toBe('active');
    expect(deep.getSnapshot().context.live.sibling!.ref).toBe(sibling);
    expect(log).toEqual(['start:leaf', 'start:sibling', 'start:leaf']);
  });
});
