import { describe, expect, it } from 'vitest';
import { bootSupervisor, workerMachine } from '../../support/supervision-fixtures.js';
import type { ChildSpecInput } from '../../../src/kernel/supervisor.js';

function workers(log: string[], names: string[], spec: Partial<ChildSpecInput> = {}): ChildSpecInput[] {
  return names.map((name) => ({ id: name, logic: workerMachine, input: { name, log }, minBackoffMs: 0, ...spec }));
}

describe('supervisor restart strategies', () => {
  it('one_for_one restarts only the crashed child, with a fresh actor', async () => {
    const log: string[] = [];
    const { child, clock } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['a', 'b', 'c']) });
    const [a, b, c] = [child('a'), child('b'), child('c')];
    b!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    expect(child('a')).toBe(a);
    expect(child('c')).toBe(c);
    expect(child('b')).toBeDefined();
    expect(child('b')).not.toBe(b);
    expect(log).toEqual(['start:a', 'start:b', 'start:c', 'stop:b', 'start:b']);
  });

  it('one_for_all restarts every child, stopping the others in reverse order first', async () => {
    const log: string[] = [];
    const { child, clock } = bootSupervisor({ id: 'sup', strategy: 'one_for_all', children: workers(log, ['a', 'b', 'c']) });
    const before = ['a', 'b', 'c'].map(child);
    child('b')!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    const after = ['a', 'b', 'c'].map(child);
    after.forEach((ref, i) => expect(ref).not.toBe(before[i]));
    expect(log.slice(3)).toEqual(['stop:b', 'stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
  });

  it('rest_for_one restarts the crashed child and those started after it', async () => {
    const log: string[] = [];
    const { child, clock } = bootSupervisor({ id: 'sup', strategy: 'rest_for_one', children: workers(log, ['a', 'b', 'c']) });
    const [a, b, c] = [child('a'), child('b'), child('c')];
    b!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    expect(child('a')).toBe(a);
    expect(child('b')).not.toBe(b);
    expect(child('c')).not.toBe(c);
    expect(log.slice(3)).toEqual(['stop:b', 'stop:c', 'start:b', 'start:c']);
  });
});

describe('supervisor restart types', () => {
  it('permanent: restarted after a normal completion too', async () => {
    const log: string[] = [];
    const { child, clock } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['p'], { restart: 'permanent' }) });
    const first = child('p');
    first!.send({ type: 'finish' });
    await clock.advanceAsync(0);
    expect(child('p')).toBeDefined();
    expect(child('p')).not.toBe(first);
  });

  it('transient: restarted after a crash, removed after a normal completion', async () => {
    const log: string[] = [];
    const { actor, child, clock, emitted } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['t'], { restart: 'transient' }) });
    const first = child('t');
    first!.send({ type: 'crash' });
    await clock.advanceAsync(0);
    const second = child('t');
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    second!.send({ type: 'finish' });
    await clock.advanceAsync(0);
    expect(child('t')).toBeUndefined();
    expect(actor.getSnapshot().context.specs.map((s) => s.id)).toEqual([]);
    expect(emitted.map((e) => e.type)).toContain('supervisor.childRemoved');
  });

  it('keeps no ended child in the XState snapshot: 200 temporary children that finished or crashed leave none behind', async () => {
    const log: string[] = [];
    const { actor, child, clock, errors } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['other']) });
    for (let i = 0; i < 200; i++) {
      actor.send({ type: 'supervisor.startChild', spec: { id: `job:${i}`, logic: workerMachine, input: { name: `job:${i}`, log }, restart: 'temporary' } });
      child(`job:${i}`)!.send({ type: i % 2 === 0 ? 'finish' : 'crash' });
      await clock.advanceAsync(0);
    }
    expect(Object.keys(actor.getSnapshot().children)).toEqual([child('other')!.id]);
    expect(Object.keys(actor.getSnapshot().context.live)).toEqual(['other']);
    expect(log.filter((l) => l.startsWith('stop:job:'))).toHaveLength(200);
    expect(errors).toEqual([]);
  });

  it('a permanent child restarted after it finished: the snapshot holds only the new actor', async () => {
    const log: string[] = [];
    const { actor, child, clock } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['p'], { restart: 'permanent' }) });
    for (let i = 0; i < 3; i++) {
      child('p')!.send({ type: 'finish' });
      await clock.advanceAsync(0);
    }
    expect(Object.values(actor.getSnapshot().children)).toEqual([child('p')]);
  });

  it('temporary: never restarted, even after a crash', async () => {
    const log: string[] = [];
    const { actor, child, clock } = bootSupervisor({ id: 'sup', strategy: 'one_for_one', children: workers(log, ['job', 'other'], { restart: 'temporary' }) });
    child('job')!.send({ type: 'crash' });
    await clock.advanceAsync(1_000);
    expect(child('job')).toBeUndefined();
    expect(child('other')).toBeDefined();
    expect(actor.getSnapshot().context.specs.map((s) => s.id)).toEqual(['other']);
  });
});
