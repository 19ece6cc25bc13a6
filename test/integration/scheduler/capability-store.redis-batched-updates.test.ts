/**
 * The Redis store's updates go out in batches: every update of one event-loop turn is one script
 * call. What a batch must keep: the latest state of a node wins when it was updated several times
 * in the turn (nothing of it lost), fencing holds per node inside a batch, calls issued after an
 * update reach Redis after it, and announcements name only the nodes whose status or pools changed
 * and whose write was applied. A real `redis-server`; Redis's own command statistics count calls.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createRedisCapabilityStore } from '../../../src/adapters/capability-store-redis.adapter.js';
import type { CapabilityStorePort } from '../../../src/kernel/ports/capability-store.port.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';
import { storedNode } from '../../support/stored-nodes.js';

let redis: RedisServer;
let raw: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
});
afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
});

const signal = new AbortController().signal;
let prefixes = 0;
let store: CapabilityStorePort | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function open(announce = false): Promise<{ store: CapabilityStorePort; prefix: string }> {
  const prefix = `batch${++prefixes}`;
  store = await createRedisCapabilityStore({ url: redis.url, ttlMs: 60_000, keyPrefix: prefix, announce, announceAs: 'sched-A' });
  return { store, prefix };
}

/** Script calls (EVAL and EVALSHA) Redis has run so far. */
async function scriptCalls(): Promise<number> {
  const stats = (await raw.info('commandstats')) as string;
  return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const load = (cpuPercent: number) => ({ runningJobs: 1, cpuPercent, memPercent: 20 });

describe('redis capability store: batched updates', () => {
  it('writes a node updated several times in one turn once, with the latest value of every field', async () => {
    const { store } = await open();
    const node = storedNode('node-1');
    await store.put(node, signal);
    const before = await scriptCalls();
    const results = await Promise.all([
      store.update('node-1', node.registrationId, { load: load(10), lastHeartbeatAt: 1_000 }, signal),
      store.update('node-1', node.registrationId, { status: 'ready', reason: 'healthy_heartbeats', pools: { speech: ['en:es'], text: ['en:es'] } }, signal),
      store.update('node-1', node.registrationId, { load: load(30), lastHeartbeatAt: 2_000, capabilities: { ...node.capabilities, ttsLanguages: ['es', 'fr'] } }, signal),
    ]);
    expect(results).toEqual([true, true, true]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(await store.get('node-1', signal)).toEqual({
      ...node,
      status: 'ready',
      reason: 'healthy_heartbeats',
      pools: { speech: ['en:es'], text: ['en:es'] },
      load: load(30),
      lastHeartbeatAt: 2_000,
      capabilities: { ...node.capabilities, ttsLanguages: ['es', 'fr'] },
    });
  });

  it('fences each node of a batch on its own: a stale registration changes nothing, the others apply', async () => {
    const { store } = await open();
    const current = storedNode('node-1', { owner: 'sched-B', registrationId: 'sched-B/node-1/2' });
    const other = storedNode('node-2');
    await store.put(current, signal);
    await store.put(other, signal);
    const before = await scriptCalls();
    const results = await Promise.all([
      store.update('node-2', other.registrationId, { load: load(5) }, signal),
      store.update('node-1', 'sched-A/node-1/1', { status: 'offline', reason: 'heartbeat_timeout', load: load(99) }, signal),
      store.update('node-1', current.registrationId, { load: load(7) }, signal),
    ]);
    expect(results).toEqual([true, false, true]);
    expect((await scriptCalls()) - before).toBe(1);
    expect(await store.get('node-1', signal)).toEqual({ ...current, load: load(7) });
    expect(await store.get('node-2', signal)).toEqual({ ...other, load: load(5) });
  });

  it('sends what is queued before a later put or remove, so a new registration is never written over', async () => {
    const { store, prefix } = await open();
    const first = storedNode('node-1');
    await store.put(first, signal);
    const second = storedNode('node-1', { owner: 'sched-B', registrationId: 'sched-B/node-1/2', status: 'registering' });
    // Issued in this order in one turn: the old registration's update lands before the new record.
    const updated = store.update('node-1', first.registrationId, { status: 'ready', load: load(50) }, signal);
    const replaced = store.put(second, signal);
    const late = store.update('node-1', first.registrationId, { status: 'draining' }, signal);
    expect([await updated, await late]).toEqual([true, false]);
    await replaced;
    expect(await store.get('node-1', signal)).toEqual(second);

    const gone = store.update('node-1', second.registrationId, { load: load(1) }, signal);
    const removed = store.remove('node-1', second.registrationId, signal);
    const after = store.update('node-1', second.registrationId, { load: load(2) }, signal);
    expect([await gone, await removed, await after]).toEqual([true, true, false]);
    expect(await store.get('node-1', signal)).toBeUndefined();
    expect(await raw.exists(`${prefix}:{node:node-1}:node`, `${prefix}:{node:node-1}:caps`)).toBe(0);
  });

  it('splits a turn with many nodes into several calls and applies every update', async () => {
    const { store } = await open();
    const nodes = Array.from({ length: 450 }, (_, i) => storedNode(`node-${i}`));
    await Promise.all(nodes.map((n) => store.put(n, signal)));
    const before = await scriptCalls();
    const results = await Promise.all(nodes.map((n, i) => store.update(n.nodeId, n.registrationId, { load: load(i), lastHeartbeatAt: i }, signal)));
    expect(results.every((r) => r)).toBe(true);
    expect((await scriptCalls()) - before).toBe(3);
    const listed = await store.list(signal);
    expect(listed.map((n) => [n.nodeId, n.load?.cpuPercent, n.lastHeartbeatAt])).toEqual(
      nodes.map((n, i) => [n.nodeId, i, i]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
  });

  it('announces the nodes whose status or pools changed and whose write applied, once per batch and node', async () => {
    const { store, prefix } = await open(true);
    const a = storedNode('node-a');
    const b = storedNode('node-b');
    const c = storedNode('node-c', { owner: 'sched-B', registrationId: 'sched-B/node-c/2' });
    for (const n of [a, b, c]) await store.put(n, signal);
    const stream = `${prefix}:{fleet}:changes`;
    const [last] = await raw.xrevrange(stream, '+', '-', 'COUNT', 1);
    await Promise.all([
      store.update('node-a', a.registrationId, { load: load(1) }, signal),
      store.update('node-b', b.registrationId, { status: 'ready', reason: 'healthy_heartbeats', pools: { speech: ['en:es'], text: [] } }, signal),
      store.update('node-b', b.registrationId, { load: load(2) }, signal),
      store.update('node-c', 'sched-A/node-c/1', { status: 'offline', pools: { speech: [], text: [] } }, signal),
    ]);
    const entries = await raw.xrange(stream, `(${last![0]}`, '+');
    expect(entries.map(([, fields]) => fields)).toEqual([['n', 'node-b', 'o', 'sched-A']]);
  });

  it('writes the updates still queued when it closes before disconnecting', async () => {
    const { store: closing, prefix } = await open();
    store = undefined;
    const node = storedNode('node-1');
    await closing.put(node, signal);
    const last = closing.update('node-1', node.registrationId, { load: load(42), lastHeartbeatAt: 9_000 }, signal);
    await closing.close();
    expect(await last).toBe(true);
    expect(await raw.hmget(`${prefix}:{node:node-1}:node`, 'load', 'lastHeartbeatAt')).toEqual([JSON.stringify(load(42)), '9000']);
  });

  it('keeps one batch in flight: updates made meanwhile gather into the next one, the latest winning', async () => {
    const { store } = await open();
    const a = storedNode('node-a');
    const b = storedNode('node-b');
    await store.put(a, signal);
    await store.put(b, signal);
    const before = await scriptCalls();
    // Redis holds write commands for a while: the first batch stays in flight.
    await raw.client('PAUSE', 300, 'WRITE');
    const first = store.update('node-a', a.registrationId, { load: load(1) }, signal);
    const later: Array<Promise<boolean>> = [];
    for (let i = 2; i <= 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      later.push(store.update('node-b', b.registrationId, { load: load(i), lastHeartbeatAt: i }, signal));
    }
    expect(await Promise.all([first, ...later])).toEqual([true, true, true, true]);
    expect((await scriptCalls()) - before).toBe(2);
    expect((await store.get('node-b', signal))?.load).toEqual(load(4));
    expect((await store.get('node-b', signal))?.lastHeartbeatAt).toBe(4);
  });
});
