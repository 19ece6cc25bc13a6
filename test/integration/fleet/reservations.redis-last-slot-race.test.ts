/**
 * Job slots in Redis (issue "Scheduler scale-out", point 3): two scheduler instances — two
 * connections, two reservations adapters — race for the last slot of one node 1 000 times; the
 * Lua check-and-take lets exactly one of them win each time, so the node never holds more than
 * its `max_concurrent_jobs`. Taking is idempotent per key; a reservation whose lease lapsed (its
 * instance died) is reclaimed by the next take.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisReservations, slotsKey } from '../../../src/adapters/reservations-redis.adapter.js';
import type { RedisReservations } from '../../../src/adapters/reservations-redis.adapter.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';

const CAPACITY = 4;
const ROUNDS = 1_000;
const signal = new AbortController().signal;

let redis: RedisServer;
let raw: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  raw?.disconnect();
  await redis?.stop();
});

function instance(leaseMs = 60_000): RedisReservations {
  const client = new Redis(redis.url);
  clients.push(client);
  return createRedisReservations({ client, leaseMs, renew: false });
}

describe('job slots in Redis', () => {
  it('gives the last slot of a node to exactly one of two racing instances, 1 000 times', async () => {
    const a = instance();
    const b = instance();
    const node = 'node-RACE0001';
    for (let i = 0; i < CAPACITY - 1; i++) expect(await a.tryReserve({ nodeId: node, jobId: `held-${i}`, attemptId: 1 }, CAPACITY, signal)).toBe(true);
    const wins = { a: 0, b: 0 };
    let most = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const keyA = { nodeId: node, jobId: `a-${round}`, attemptId: 1 };
      const keyB = { nodeId: node, jobId: `b-${round}`, attemptId: 1 };
      // Both calls are on the wire at once, on two connections; which one is written first alternates.
      const [tookA, tookB] =
        round % 2 === 0
          ? await Promise.all([a.tryReserve(keyA, CAPACITY, signal), b.tryReserve(keyB, CAPACITY, signal)])
          : await Promise.all([b.tryReserve(keyB, CAPACITY, signal), a.tryReserve(keyA, CAPACITY, signal)]).then(([y, x]) => [x, y] as const);
      expect([round, Number(tookA) + Number(tookB)]).toEqual([round, 1]);
      most = Math.max(most, await raw.hlen(slotsKey('lm', node)));
      if (tookA) wins.a++;
      if (tookB) wins.b++;
      await (tookA ? a.release(keyA, signal) : b.release(keyB, signal));
    }
    expect(most).toBe(CAPACITY);
    expect(wins.a + wins.b).toBe(ROUNDS);
    expect(Math.min(wins.a, wins.b)).toBeGreaterThan(0);
    expect((await a.counts([node], signal)).get(node)).toBe(CAPACITY - 1);
    console.log(`[race] last slot won ${wins.a} times by A, ${wins.b} times by B; the node never held more than ${most}`);
    await a.close();
    await b.close();
    expect(await raw.exists(slotsKey('lm', node))).toBe(0);
  });

  it('takes a key once however often it is asked, and reclaims the slot of a lapsed lease', async () => {
    const a = instance();
    const node = 'node-LEASE001';
    const key = { nodeId: node, jobId: 'job-1', attemptId: 1 };
    expect(await a.tryReserve(key, 1, signal)).toBe(true);
    expect(await a.tryReserve(key, 1, signal)).toBe(true);
    expect(await raw.hlen(slotsKey('lm', node))).toBe(1);
    expect(await a.tryReserve({ ...key, jobId: 'job-2' }, 1, signal)).toBe(false);
    // The holder died: its reservation was never renewed and its lease is over.
    await raw.hset(slotsKey('lm', node), 'job-1#1', String(Date.now() - 1));
    const b = instance();
    expect(await b.tryReserve({ ...key, jobId: 'job-2' }, 1, signal)).toBe(true);
    expect(await raw.hkeys(slotsKey('lm', node))).toEqual(['job-2#1']);
    expect([...(await b.counts(undefined, signal))]).toEqual([[node, 1]]);
    // Its lease is renewed by its instance, and the key expires with the newest lease.
    const before = Number(await raw.hget(slotsKey('lm', node), 'job-2#1'));
    expect(await b.renewAll()).toBe(true);
    expect(Number(await raw.hget(slotsKey('lm', node), 'job-2#1'))).toBeGreaterThanOrEqual(before);
    expect(await raw.pttl(slotsKey('lm', node))).toBeGreaterThan(50_000);
    await b.release({ ...key, jobId: 'job-2' }, signal);
    expect(await raw.exists(slotsKey('lm', node))).toBe(0);
    await a.close();
    await b.close();
  });
});
