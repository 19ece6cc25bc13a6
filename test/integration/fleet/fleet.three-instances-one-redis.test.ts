/**
 * Scale-out (issue "Scheduler scale-out"): three scheduler instances as real OS processes on one
 * real redis-server, two whole nodes in this process (real links, fake instant speech) attached to
 * different instances, clients on all three.
 *
 * - A session on instance A is served by the only node, which is attached to instance C: the
 *   `job_assign` travels to C's inbox, the result back to A's.
 * - Every instance lists itself and the others, and shows the same pools.
 * - 30 sessions spread over A, B and C, 5 utterances each, at once: every utterance is answered
 *   exactly once, in order per session, and at the end Redis holds no job slot.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClient } from '../../support/dispatch-harness.js';
import type { Message } from '../../support/dispatch-harness.js';
import { startFleetInstance, until } from '../../support/fleet-harness.js';
import type { FleetInstanceProcess } from '../../support/fleet-harness.js';
import { labelledPcm16, startInstantNode } from '../../support/instant-node.js';
import type { InstantNode } from '../../support/instant-node.js';
import { startRedisServer } from '../../support/redis-server.js';
import type { RedisServer } from '../../support/redis-server.js';

const SESSIONS = 30;
const UTTERANCES = 5;

let redis: RedisServer;
let raw: Redis;
const instances: FleetInstanceProcess[] = [];
const nodes: InstantNode[] = [];
const clients: SessionClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  raw = new Redis(redis.url);
  instances.push(...(await Promise.all([0, 1, 2].map(() => startFleetInstance(redis.url)))));
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(instances.map((i) => i.kill('SIGTERM')));
  raw?.disconnect();
  await redis?.stop();
}, 60_000);

type Pools = { pools: Record<string, string[]> };

async function slotsInRedis(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const key of await raw.keys('lm:{node:*}:slots')) out[key] = await raw.hlen(key);
  return out;
}

/** Sends `count` labelled utterances on `client` (label `s`) and collects its next `count` answers. */
async function speak(client: SessionClient, s: number, count: number): Promise<Message[]> {
  for (let u = 0; u < count; u++) {
    client.chunk(labelledPcm16(s, u).toString('base64'));
    client.chunk('', true);
  }
  const got: Message[] = [];
  for (let u = 0; u < count; u++) got.push(await client.next((m) => m.type !== 'ui_event', 30_000));
  return got;
}

describe('three scheduler instances on one Redis', () => {
  it('serves a session on A with a node attached to C, and lists the instances everywhere', async () => {
    const [a, b, c] = instances as [FleetInstanceProcess, FleetInstanceProcess, FleetInstanceProcess];
    const ids = instances.map((i) => i.instanceId).sort();
    for (const instance of instances) {
      await until(async () => (await instance.getJson<{ instances: Array<{ instanceId: string }> }>('/api/v1/instances')).instances.length === 3, 10_000, 'three instances');
      const listed = await instance.getJson<{ self: string; store: string; instances: Array<{ instanceId: string; address: string }> }>('/api/v1/instances');
      expect(listed).toMatchObject({ self: instance.instanceId, store: 'up' });
      expect(listed.instances.map((i) => i.instanceId)).toEqual(ids);
    }
    nodes.push(await startInstantNode(c.ws));
    const onC = nodes[0]!;
    await until(async () => (await a.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 1, 20_000, 'the node of C in the pools of A');

    const client = await SessionClient.connect(`${a.ws}/ws/session`);
    clients.push(client);
    await client.init({ audio_format: 'pcm16' });
    const got = await speak(client, 900, 2);
    expect(got.map((m) => [m.type, m.utterance_index, m.text_asr])).toEqual([
      ['translation_result', 0, 's900 u0'],
      ['translation_result', 1, 's900 u1'],
    ]);
    expect(onC.speech.calls.filter((call) => call.op === 'transcribe')).toHaveLength(2);
    expect((await c.getJson<{ sessions: number }>('/api/v1/dispatch')).sessions).toBe(0);
    await client.close();
    clients.pop();

    nodes.push(await startInstantNode(b.ws));
    await until(() => nodes.every((n) => n.nodeId() !== undefined), 10_000, 'both nodes registered');
    const nodeIds = nodes.map((n) => n.nodeId()!).sort();
    for (const instance of instances) {
      await until(async () => (await instance.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 2, 20_000, 'both nodes in every pool');
      expect((await instance.getJson<Pools>('/api/v1/pools')).pools).toEqual({ 'en:es': nodeIds });
    }
  }, 120_000);

  it('answers 30 concurrent sessions × 5 utterances over A, B and C exactly once, in order, and leaves no slot in Redis', async () => {
    for (let s = 0; s < SESSIONS; s++) {
      const client = await SessionClient.connect(`${instances[s % 3]!.ws}/ws/session`);
      await client.init({ audio_format: 'pcm16' });
      clients.push(client);
    }
    const before = nodes.map((n) => n.speech.calls.filter((c) => c.op === 'transcribe').length);
    const results = await Promise.all(clients.map((client, s) => speak(client, s, UTTERANCES)));
    results.forEach((got, s) => {
      expect(got.map((m) => [m.type, m.utterance_index, m.text_asr])).toEqual(Array.from({ length: UTTERANCES }, (_, u) => ['translation_result', u, `s${s} u${u}`]));
    });
    const extra = await Promise.all(clients.map((c) => c.sync()));
    expect(extra.flat()).toEqual([]);
    const served = nodes.map((n, i) => n.speech.calls.filter((c) => c.op === 'transcribe').length - before[i]!);
    expect(served.reduce((x, y) => x + y, 0)).toBe(SESSIONS * UTTERANCES);
    await until(async () => Object.keys(await slotsInRedis()).length === 0, 10_000, 'no slot left in Redis');
    for (const instance of instances) {
      expect((await instance.getJson<{ jobs: unknown }>('/api/v1/dispatch')).jobs).toEqual({ queued: 0, inFlight: 0, reservations: {} });
    }
    console.log(`[fleet] ${SESSIONS * UTTERANCES} utterances over 3 instances; per node ${served.join(' / ')}`);
  }, 120_000);
});
