/**
 * Node ownership in a fleet (issue "Scheduler scale-out", point 2): two scheduler instances on one
 * Redis. A node registered on X registers again on Y (its link moved): Y's registration is the
 * newer owner and wins; X's next write for its older registration is refused by the fenced Lua
 * update, so it never writes over Y's record, and X lets go of the node (closes its old socket).
 * Every instance sees the node, whoever holds it.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import { heartbeatFrame } from '../../support/node-frames.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let redis: RedisServer | undefined;
const schedulers: TestScheduler[] = [];
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  await redis?.stop();
  redis = undefined;
});

const NODE = 'node-FE4CE001';

describe('node ownership across instances', () => {
  it('lets the newer owner win and fences the older one out', async () => {
    redis = await startRedisServer();
    const x = await startTestScheduler({ store: redis.url });
    const y = await startTestScheduler({ store: redis.url });
    schedulers.push(x, y);
    const raw = new Redis(redis.url);
    const { client: onX } = await x.registerNode({ node_id: NODE });
    for (let seq = 1; seq <= 3; seq++) onX.send(heartbeatFrame(NODE, seq));
    await onX.sync();
    expect(await raw.hget(`lm:{node:${NODE}}:node`, 'owner')).toBe(x.scheduler.instanceId);
    const onY = await y.registerNode({ node_id: NODE });
    expect(onY.nodeId).toBe(NODE);
    const owned = await raw.hmget(`lm:{node:${NODE}}:node`, 'owner', 'registration');
    expect(owned[0]).toBe(y.scheduler.instanceId);

    // X still has the old socket: its heartbeat is handled, its write refused, the node let go.
    onX.send(heartbeatFrame(NODE, 4, {}, { resource_usage: { cpu_percent: 99, mem_percent: 99, running_jobs: 3 } }));
    await expect(onX.closed).resolves.toMatchObject({ code: 4001, reason: 'owned_elsewhere' });
    expect(x.scheduler.registry.node(NODE)).toBeUndefined();
    expect(await raw.hmget(`lm:{node:${NODE}}:node`, 'owner', 'registration')).toEqual(owned);
    expect(await raw.hget(`lm:{node:${NODE}}:node`, 'load')).toBeNull();
    // Both instances read the same record from the store.
    for (const t of [x, y]) {
      const { body } = await t.getJson<{ source: string; nodes: StoredNode[] }>('/api/v1/nodes');
      expect(body).toMatchObject({ source: 'store', nodes: [{ nodeId: NODE, owner: y.scheduler.instanceId }] });
    }
    raw.disconnect();
  });
});
