/**
 * Redis loss (issue "Scheduler scale-out", point 5), with two scheduler processes and one node held
 * by B: while Redis is unreachable each instance keeps serving what it holds (B's own session is
 * answered by B's node), a job that would need another instance is refused with
 * SCHEDULER_DEPENDENCY_DOWN (A's session), and `/health` and `/metrics` say so; once Redis is back
 * (empty, same port) the instances write their records again and dispatch across them resumes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClient } from '../../support/dispatch-harness.js';
import { startFleetInstance, until } from '../../support/fleet-harness.js';
import type { FleetInstanceProcess } from '../../support/fleet-harness.js';
import { labelledPcm16, startInstantNode } from '../../support/instant-node.js';
import type { InstantNode } from '../../support/instant-node.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';

let redis: RedisServer;
let a: FleetInstanceProcess;
let b: FleetInstanceProcess;
let node: InstantNode | undefined;
const clients: SessionClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  [a, b] = await Promise.all([startFleetInstance(redis.url, { noNodeTimeoutMs: 1_500 }), startFleetInstance(redis.url)]);
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await node?.stop();
  await Promise.all([a, b].map((i) => i?.kill('SIGTERM')));
  await redis?.stop();
}, 60_000);

type Pools = { source: string; pools: Record<string, string[]> };

async function open(instance: FleetInstanceProcess): Promise<SessionClient> {
  const client = await SessionClient.connect(`${instance.ws}/ws/session`);
  await client.init({ audio_format: 'pcm16' });
  clients.push(client);
  return client;
}

function say(client: SessionClient, label: number, index: number): void {
  client.chunk(labelledPcm16(label, index).toString('base64'));
  client.chunk('', true);
}

const storeUp = async (instance: FleetInstanceProcess) => /^linguamesh_scheduler_fleet_store_up 1$/m.test(await instance.metrics());

describe('a fleet while Redis is unreachable', () => {
  it('serves local state, refuses cross-instance dispatch with a clear code, says so, and resumes when Redis is back', async () => {
    node = await startInstantNode(b.ws);
    await until(async () => (await a.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 1, 20_000, 'the node of B in the pools of A');
    const onA = await open(a);
    const onB = await open(b);
    say(onA, 1, 0);
    expect(await onA.next((m) => m.type !== 'ui_event', 20_000)).toMatchObject({ type: 'translation_result', utterance_index: 0, text_asr: 's1 u0' });
    expect((await a.health()).headers['x-linguamesh-degraded']).toBeUndefined();
    expect(await storeUp(a)).toBe(true);

    await redis.stop();
    await until(async () => (await a.health()).headers['x-linguamesh-degraded'] === 'store_unreachable', 15_000, 'A degraded');
    expect(await a.health()).toMatchObject({ status: 200, body: 'OK' });
    expect(await storeUp(a)).toBe(false);
    expect(await a.getJson<{ store: string }>('/api/v1/instances')).toMatchObject({ store: 'down' });

    say(onB, 2, 0);
    expect(await onB.next((m) => m.type !== 'ui_event', 20_000)).toMatchObject({ type: 'translation_result', utterance_index: 0, text_asr: 's2 u0' });
    say(onA, 1, 1);
    const refused = await onA.next((m) => m.type !== 'ui_event', 20_000);
    expect(JSON.stringify(refused)).toContain('SCHEDULER_DEPENDENCY_DOWN');

    redis = await startRedisServer({ port: redis.port });
    await until(async () => (await a.health()).headers['x-linguamesh-degraded'] === undefined && (await storeUp(a)), 15_000, 'A healthy again');
    await until(async () => (await a.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 1, 20_000, 'pools written back');
    say(onA, 1, 2);
    expect(await onA.next((m) => m.type !== 'ui_event', 20_000)).toMatchObject({ type: 'translation_result', utterance_index: 2, text_asr: 's1 u2' });
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 150_000);
});
