/**
 * A scheduler on a real Redis: node records are written through and removed at stop; when Redis
 * goes away, the nodes this instance holds keep being served from local state, and the API says
 * where its answer comes from.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import type { StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import { startScheduler } from '../../../src/cli/start-scheduler.js';
import { heartbeatFrame } from '../../support/node-frames.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  // Cleared first: a failing stop must not be tried again by the next test's hook.
  const [scheduler, server] = [t, redis];
  t = undefined;
  redis = undefined;
  await scheduler?.stop();
  await server?.stop();
});

describe('scheduler with a Redis capability store', () => {
  it('writes nodes through to Redis and removes them when it stops', async () => {
    redis = await startRedisServer();
    t = await startTestScheduler({ store: redis.url });
    const { client, nodeId } = await t.registerNode();
    for (let seq = 1; seq <= 3; seq++) client.send(heartbeatFrame(nodeId, seq));
    await client.sync();
    // The record reaches Redis by write-through after the heartbeat is handled: wait for it (real I/O).
    const scheduler = t;
    await vi.waitFor(async () => {
      const { body } = await scheduler.getJson<{ source: string; nodes: StoredNode[] }>('/api/v1/nodes');
      expect(body.source).toBe('store');
      expect(body.nodes).toEqual([expect.objectContaining({ nodeId, status: 'ready', owner: scheduler.scheduler.instanceId, pools: { speech: ['en:es'], text: ['en:es'] } })]);
    }, { timeout: 5_000, interval: 25 });
    expect((await t.getJson<{ pools: unknown }>('/api/v1/pools')).body.pools).toEqual({ 'en:es': [nodeId] });
    const raw = new Redis(redis.url);
    expect(await raw.exists(`lm:{node:${nodeId}}:caps`)).toBe(1);
    await t.stop();
    t = undefined;
    expect(await raw.keys('lm:{node:*')).toEqual([]);
    raw.disconnect();
  });

  it('keeps serving its nodes from local state while Redis is down', async () => {
    redis = await startRedisServer();
    t = await startTestScheduler({ store: redis.url });
    const { client, nodeId } = await t.registerNode();
    await redis.stop();
    for (let seq = 1; seq <= 3; seq++) client.send(heartbeatFrame(nodeId, seq));
    await expect(client.nextOfType('node_status', 15_000)).resolves.toMatchObject({ status: 'ready' });
    const { body } = await t.getJson<{ source: string; nodes: Array<{ nodeId: string; status: string }> }>('/api/v1/nodes');
    expect(body).toMatchObject({ source: 'local', nodes: [{ nodeId, status: 'ready' }] });
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: true, use_tts: true } })).toEqual([nodeId]);
  });

  it('does not become ready when the store cannot be reached at start', async () => {
    const gone = await startRedisServer();
    await gone.stop();
    const scheduler = startScheduler({ host: '127.0.0.1', port: 0, store: gone.url });
    await expect(scheduler.ready).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await scheduler.stop();
  });
});
