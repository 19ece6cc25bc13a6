/**
 * §12 item 10 (PROTOCOL.md §4.2 socket close [fix]): X registered on A; A's socket closes while its
 * close handler is held back (A's queue is busy with a heartbeat whose store write the test
 * blocks); X registers on B and becomes ready; then A's handlers run. X stays registered on B with
 * its status and pools, and the late write of A's heartbeat is fenced off in the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCapabilityStore } from '../../../src/adapters/capability-store-memory.adapter.js';
import { flushIo } from '../../../src/kernel/clock.js';
import type { CapabilityStorePort, StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import { heartbeatFrame, registerFrame } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** A memory store whose next `update` (once armed) waits until released. */
function blockingStore() {
  const inner = createMemoryCapabilityStore({ ttlMs: 600_000 });
  let armed = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let results: boolean[] = [];
  const store: CapabilityStorePort = {
    ...inner,
    async update(nodeId, registrationId, patch, signal) {
      if (armed) {
        armed = false;
        await released;
        const applied = await inner.update(nodeId, registrationId, patch, signal);
        results.push(applied);
        return applied;
      }
      return inner.update(nodeId, registrationId, patch, signal);
    },
  };
  return {
    store,
    arm: () => (armed = true),
    release,
    heldResults: () => results,
    reset: () => (results = []),
  };
}

describe('identity binding across sockets', () => {
  it('the held-back close of an old socket leaves the newer registration, its status and pools intact', async () => {
    const blocking = blockingStore();
    const handled: string[] = [];
    t = await startTestScheduler({ capabilityStore: blocking.store, observeFrame: (type) => handled.push(type) });
    const a = await t.registerNode({ node_id: 'node-0000000A' });

    blocking.arm();
    a.client.send(heartbeatFrame('node-0000000A', 1));
    await a.client.close();

    const b = await t.connectNode();
    b.send(registerFrame({ node_id: 'node-0000000A' }));
    await expect(b.nextOfType('node_register_ack')).resolves.toMatchObject({ node_id: 'node-0000000A' });
    for (let seq = 2; seq <= 4; seq++) b.send(heartbeatFrame('node-0000000A', seq));
    await expect(b.nextOfType('node_status')).resolves.toMatchObject({ status: 'ready' });
    await b.sync();

    handled.length = 0;
    blocking.release();
    await expect.poll(() => handled).toContain('node_heartbeat');
    await flushIo();

    // A's heartbeat write belonged to the superseded registration: refused by the store.
    expect(blocking.heldResults()).toEqual([false]);
    expect(t.scheduler.registry.node('node-0000000A')).toMatchObject({ status: 'ready', connected: true, pools: { speech: ['en:es'], text: ['en:es'] } });
    expect((await t.getJson<StoredNode>('/api/v1/nodes/node-0000000A')).body).toMatchObject({ status: 'ready', pools: { speech: ['en:es'] } });
    expect((await t.getJson<{ pools: Record<string, string[]> }>('/api/v1/pools')).body.pools).toEqual({ 'en:es': ['node-0000000A'] });
    b.send(heartbeatFrame('node-0000000A', 5));
    expect(await b.sync()).toEqual([]);
  });
});
