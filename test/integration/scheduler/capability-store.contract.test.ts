/**
 * One contract, two capability stores: in memory and in a real Redis (a `redis-server` started for
 * this file). Each test gets a fresh store; Redis ones under a key prefix of their own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCapabilityStore } from '../../../src/adapters/capability-store-memory.adapter.js';
import { createRedisCapabilityStore } from '../../../src/adapters/capability-store-redis.adapter.js';
import type { CapabilityStorePort } from '../../../src/kernel/ports/capability-store.port.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';
import { storedNode } from '../../support/stored-nodes.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

let prefixes = 0;
const factories: Array<[string, () => Promise<CapabilityStorePort>]> = [
  ['memory', async () => createMemoryCapabilityStore({ ttlMs: 60_000 })],
  ['redis', () => createRedisCapabilityStore({ url: redis.url, ttlMs: 60_000, keyPrefix: `contract${++prefixes}` })],
];

const signal = new AbortController().signal;

describe.each(factories)('capability store contract: %s', (_name, create) => {
  let store: CapabilityStorePort;
  afterEach(async () => {
    await store?.close();
  });

  it('returns what was put, optional fields included or left out', async () => {
    store = await create();
    const full = storedNode('node-1', { load: { runningJobs: 1, cpuPercent: 2.5, memPercent: 3, gpuPercent: 41 }, lastHeartbeatAt: 1_767_225_615_000 });
    const bare = storedNode('node-2', { epoch: undefined, hardware: { cpu_cores: 2, memory_gb: 4 } });
    delete bare.epoch;
    await store.put(full, signal);
    await store.put(bare, signal);
    expect(await store.get('node-1', signal)).toEqual(full);
    expect(await store.get('node-2', signal)).toEqual(bare);
    expect(await store.get('node-3', signal)).toBeUndefined();
  });

  it('applies a patch only for the registration that wrote the record', async () => {
    store = await create();
    const node = storedNode('node-1');
    await store.put(node, signal);
    const patch = {
      status: 'ready' as const,
      reason: 'healthy_heartbeats',
      load: { runningJobs: 2, cpuPercent: 10, memPercent: 20 },
      pools: { speech: ['en:es'], text: ['en:es'] },
      lastHeartbeatAt: 1_767_225_630_000,
      capabilities: { ...node.capabilities, ttsLanguages: ['es', 'fr'] },
    };
    expect(await store.update('node-1', node.registrationId, patch, signal)).toBe(true);
    expect(await store.get('node-1', signal)).toEqual({ ...node, ...patch });
    expect(await store.update('node-1', 'sched-B/other', { status: 'offline' }, signal)).toBe(false);
    expect(await store.update('node-9', node.registrationId, { status: 'offline' }, signal)).toBe(false);
    expect((await store.get('node-1', signal))?.status).toBe('ready');
    expect(await store.get('node-9', signal)).toBeUndefined();
  });

  it('keeps the capabilities when a patch does not carry them', async () => {
    store = await create();
    const node = storedNode('node-1');
    await store.put(node, signal);
    await store.update('node-1', node.registrationId, { status: 'ready' }, signal);
    expect((await store.get('node-1', signal))?.capabilities).toEqual(node.capabilities);
  });

  it('lets a new registration replace the record and fences off the old one', async () => {
    store = await create();
    const old = storedNode('node-1');
    await store.put(old, signal);
    const fresh = storedNode('node-1', { registrationId: 'sched-B/node-1/2', owner: 'sched-B', load: undefined });
    delete fresh.load;
    await store.put(fresh, signal);
    expect(await store.update('node-1', old.registrationId, { status: 'offline' }, signal)).toBe(false);
    expect(await store.remove('node-1', old.registrationId, signal)).toBe(false);
    expect(await store.get('node-1', signal)).toEqual(fresh);
  });

  it('lists every record sorted by node id and removes by registration', async () => {
    store = await create();
    for (const id of ['node-C', 'node-A', 'node-B']) await store.put(storedNode(id), signal);
    expect((await store.list(signal)).map((n) => n.nodeId)).toEqual(['node-A', 'node-B', 'node-C']);
    expect(await store.remove('node-B', storedNode('node-B').registrationId, signal)).toBe(true);
    expect(await store.remove('node-B', storedNode('node-B').registrationId, signal)).toBe(false);
    expect((await store.list(signal)).map((n) => n.nodeId)).toEqual(['node-A', 'node-C']);
  });

  it('removes the records of one owner only', async () => {
    store = await create();
    await store.put(storedNode('node-1'), signal);
    await store.put(storedNode('node-2', { owner: 'sched-B' }), signal);
    await store.put(storedNode('node-3'), signal);
    expect(await store.removeOwnedBy('sched-A', signal)).toBe(2);
    expect((await store.list(signal)).map((n) => n.nodeId)).toEqual(['node-2']);
  });

  it('aggregates pools per variant, keys and members sorted', async () => {
    store = await create();
    await store.put(storedNode('node-2', { pools: { speech: ['en:es'], text: ['en:es', 'zh:en'] } }), signal);
    await store.put(storedNode('node-1', { pools: { speech: ['en:es', 'en:fr'], text: ['en:es', 'en:fr'] } }), signal);
    await store.put(storedNode('node-3'), signal);
    expect(await store.pools('speech', signal)).toEqual({ 'en:es': ['node-1', 'node-2'], 'en:fr': ['node-1'] });
    expect(await store.pools('text', signal)).toEqual({ 'en:es': ['node-1', 'node-2'], 'en:fr': ['node-1'], 'zh:en': ['node-2'] });
  });

  it('rejects calls with an aborted signal with ABORTED', async () => {
    store = await create();
    const aborted = AbortSignal.abort();
    await expect(store.put(storedNode('node-1'), aborted)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(store.list(aborted)).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('closes idempotently', async () => {
    store = await create();
    await Promise.all([store.close(), store.close()]);
  });
});
