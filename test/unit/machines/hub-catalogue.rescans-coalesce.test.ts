import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { FakeClock } from '../../../src/kernel/clock.js';
import type { HubStorageScan } from '../../../src/kernel/ports/hub-storage.port.js';
import { hubCatalogueMachine } from '../../../src/machines/hub-catalogue.machine.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const scanOf = (n: number): HubStorageScan => ({ packages: [], models: [{ modelId: `m${n}`, name: '', task: '', languages: [], versions: [] }], stamps: {} });

function harness() {
  const clock = new FakeClock();
  const pending: Array<ReturnType<typeof deferred<HubStorageScan>>> = [];
  const actor = createActor(
    hubCatalogueMachine.provide({
      actors: {
        scan: fromPromise(() => {
          const d = deferred<HubStorageScan>();
          pending.push(d);
          return d.promise;
        }),
      },
    }),
    { clock, input: { rescanIntervalMs: 10_000 } },
  );
  actor.subscribe({ error: () => undefined });
  actor.start();
  return { clock, actor, pending };
}

describe('hub catalogue machine', () => {
  it('scans at start and again every rescanIntervalMs on the clock', async () => {
    const h = harness();
    expect(h.pending).toHaveLength(1);
    h.pending[0]?.resolve(scanOf(1));
    await h.clock.advanceAsync(0);
    expect(h.actor.getSnapshot().context).toMatchObject({ scans: 1, scan: scanOf(1) });
    await h.clock.advanceAsync(9_999);
    expect(h.pending).toHaveLength(1);
    await h.clock.advanceAsync(1);
    expect(h.pending).toHaveLength(2);
  });

  it('rescan requests during a scan coalesce into one more scan after it', async () => {
    const h = harness();
    h.actor.send({ type: 'catalogue.rescan' });
    h.actor.send({ type: 'catalogue.rescan' });
    h.actor.send({ type: 'catalogue.rescan' });
    h.pending[0]?.resolve(scanOf(1));
    await h.clock.advanceAsync(0);
    expect(h.pending).toHaveLength(2);
    h.pending[1]?.resolve(scanOf(2));
    await h.clock.advanceAsync(0);
    expect(h.pending).toHaveLength(2);
    expect(h.actor.getSnapshot().context.scans).toBe(2);
    expect(h.actor.getSnapshot().value).toBe('idle');
  });

  it('a failed scan keeps the previous result and still counts as a completed scan', async () => {
    const h = harness();
    h.pending[0]?.resolve(scanOf(1));
    await h.clock.advanceAsync(0);
    h.actor.send({ type: 'catalogue.rescan' });
    h.pending[1]?.reject(new Error('EACCES'));
    await h.clock.advanceAsync(0);
    expect(h.actor.getSnapshot().context).toMatchObject({ scans: 2, scan: scanOf(1), lastError: 'EACCES' });
  });

  it('supervisor.shutdown ends it in its final state', () => {
    const h = harness();
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});
