/**
 * What the Redis store adds to the contract: a hash tag per node in every key, an expiry refreshed
 * by each write (so a crashed instance's records go away), and STORE_UNAVAILABLE when Redis is not
 * there. The memory store's expiry runs on the injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryCapabilityStore } from '../../../src/adapters/capability-store-memory.adapter.js';
import { createRedisCapabilityStore } from '../../../src/adapters/capability-store-redis.adapter.js';
import { FakeClock } from '../../../src/kernel/clock.js';
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

describe('redis capability store', () => {
  it('keeps a node under keys hash-tagged with its id, expiring ttlMs after the last write', async () => {
    const store = await createRedisCapabilityStore({ url: redis.url, ttlMs: 90_000, keyPrefix: 'keys' });
    const node = storedNode('node-3F2A9C1B');
    await store.put(node, signal);
    expect((await raw.keys('keys:*')).sort()).toEqual(['keys:{fleet}:nodes', 'keys:{node:node-3F2A9C1B}:caps', 'keys:{node:node-3F2A9C1B}:node']);
    for (const key of ['keys:{node:node-3F2A9C1B}:caps', 'keys:{node:node-3F2A9C1B}:node']) {
      const ttl = await raw.pttl(key);
      expect([key, ttl > 80_000 && ttl <= 90_000]).toEqual([key, true]);
    }
    await raw.pexpire('keys:{node:node-3F2A9C1B}:node', 1_000);
    await store.update(node.nodeId, node.registrationId, { status: 'ready' }, signal);
    expect(await raw.pttl('keys:{node:node-3F2A9C1B}:node')).toBeGreaterThan(80_000);
    expect(await raw.pttl('keys:{node:node-3F2A9C1B}:caps')).toBeGreaterThan(80_000);
    await store.close();
  });

  it('drops a node whose keys expired from listings and from the index', async () => {
    const store = await createRedisCapabilityStore({ url: redis.url, ttlMs: 90_000, keyPrefix: 'gone' });
    await store.put(storedNode('node-1'), signal);
    await store.put(storedNode('node-2', { pools: { speech: ['en:es'], text: ['en:es'] } }), signal);
    await raw.del('gone:{node:node-2}:node', 'gone:{node:node-2}:caps');
    await raw.zadd('gone:{fleet}:nodes', Date.now() - 1, 'node-2');
    expect((await store.list(signal)).map((n) => n.nodeId)).toEqual(['node-1']);
    expect(await store.pools('speech', signal)).toEqual({});
    expect(await raw.zrange('gone:{fleet}:nodes', 0, -1)).toEqual(['node-1']);
    await store.close();
  });

  it('fails with STORE_UNAVAILABLE when Redis cannot be reached', async () => {
    const spare = await startRedisServer();
    await spare.stop();
    await expect(createRedisCapabilityStore({ url: spare.url, ttlMs: 90_000, connectTimeoutMs: 1_000 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
  });

  it('rejects calls with STORE_UNAVAILABLE once Redis went away, within the command timeout', async () => {
    const doomed = await startRedisServer();
    const store = await createRedisCapabilityStore({ url: doomed.url, ttlMs: 90_000, commandTimeoutMs: 300 });
    await store.put(storedNode('node-1'), signal);
    await doomed.stop();
    await expect(store.list(signal)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await store.close();
  });
});

describe('memory capability store', () => {
  it('expires a record ttlMs after its last write, on its clock', async () => {
    const clock = new FakeClock();
    const store = createMemoryCapabilityStore({ ttlMs: 90_000, clock });
    const node = storedNode('node-1');
    await store.put(node, signal);
    clock.advance(60_000);
    await store.update(node.nodeId, node.registrationId, { status: 'ready' }, signal);
    clock.advance(89_999);
    expect((await store.get('node-1', signal))?.status).toBe('ready');
    clock.advance(1);
    expect(await store.get('node-1', signal)).toBeUndefined();
    expect(await store.list(signal)).toEqual([]);
  });
});
