/**
 * Closing the fleet adapter while Redis is down: the blocking readers sit in ioredis' offline
 * queue between reconnect attempts, and `disconnect()` in that state settles nothing. `close()`
 * must still return, at whatever point of the reconnect cycle it is called.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisFleet } from '../../../src/adapters/fleet-redis.adapter.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';

let redis: RedisServer | undefined;
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

const handlers = { envelope: async () => undefined, nodesChanged: () => undefined, connection: () => undefined };

describe('fleet adapter close', () => {
  it('returns while its readers wait for a Redis that is gone, at any point of the reconnect cycle', async () => {
    redis = await startRedisServer();
    const fleets = Array.from({ length: 6 }, (_, i) => createRedisFleet({ url: redis!.url, instanceId: `inst-${i}`, leaseMs: 60_000, commandTimeoutMs: 20 }));
    for (const fleet of fleets) await fleet.start(handlers, undefined);
    await redis.stop();
    redis = undefined;
    // A 20 ms command bound lets close's own clean-up fail fast, at any phase of the readers'
    // reconnect cycle; closing one fleet every 100 ms lands the closes in different phases
    // (connecting, waiting to reconnect with a read queued, pausing after a failed read).
    const outcomes = await Promise.all(
      fleets.map(async (fleet, i) => {
        await new Promise((resolve) => setTimeout(resolve, 100 * (i + 1)));
        const closed = fleet.close().then(() => 'closed');
        // A bound on a hang, not a wait for a timeout: a close that returns settles this at once.
        const stuck = new Promise<string>((resolve) => setTimeout(() => resolve('stuck'), 3_000).unref());
        return Promise.race([closed, stuck]);
      }),
    );
    expect(outcomes).toEqual(fleets.map(() => 'closed'));
  }, 20_000);
});
