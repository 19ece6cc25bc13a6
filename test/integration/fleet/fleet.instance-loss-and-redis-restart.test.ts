/**
 * Losses in a fleet of three scheduler processes on one redis-server, under load from clients on
 * A and B and two whole nodes in this process, each with the list of the three schedulers:
 *
 * - Instance C is killed (SIGKILL) mid-load: its node re-registers on another instance within the
 *   link backoff, the jobs that were in flight through C are reassigned and complete; no utterance
 *   is lost or answered twice.
 * - Redis is restarted (same port, empty) mid-load: no instance crashes, dispatch resumes, the
 *   fleet's records are written back (pools on every instance again), no utterance lost or doubled,
 *   no slot left at the end.
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

const SESSIONS = 16;
const UTTERANCES = 6;

let redis: RedisServer;
const instances: FleetInstanceProcess[] = [];
const nodes: InstantNode[] = [];
const clients: SessionClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  instances.push(...(await Promise.all([0, 1, 2].map(() => startFleetInstance(redis.url)))));
}, 90_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(instances.map((i) => i.kill('SIGTERM')));
  await redis?.stop();
}, 60_000);

type Pools = { pools: Record<string, string[]> };

/** Sends one round of labelled utterances (indexes from `first`) on every client. */
function speakAll(first: number): void {
  clients.forEach((client, s) => {
    for (let u = first; u < first + UTTERANCES; u++) {
      client.chunk(labelledPcm16(s, u).toString('base64'));
      client.chunk('', true);
    }
  });
}

/** The next `UTTERANCES` answers of every client (ui_events left out). */
function collectAll(): Promise<Message[][]> {
  return Promise.all(
    clients.map(async (client) => {
      const got: Message[] = [];
      for (let u = 0; u < UTTERANCES; u++) got.push(await client.next((m) => m.type !== 'ui_event', 60_000));
      return got;
    }),
  );
}

function expectRound(results: Message[][], first: number): void {
  results.forEach((got, s) => {
    expect(got.map((m) => [m.type, m.utterance_index, m.text_asr])).toEqual(Array.from({ length: UTTERANCES }, (_, i) => ['translation_result', first + i, `s${s} u${first + i}`]));
  });
}

async function answeredSoFar(): Promise<number> {
  return clients.reduce((n, c) => n + c.client.pending().filter((m) => m.type === 'translation_result').length, 0);
}

describe('a fleet that loses an instance, then Redis', () => {
  it('loses no utterance when instance C is killed mid-load, nor when Redis restarts mid-load', async () => {
    const [a, b, c] = instances as [FleetInstanceProcess, FleetInstanceProcess, FleetInstanceProcess];
    const link = { reconnectMinMs: 100, reconnectMaxMs: 400 };
    nodes.push(await startInstantNode([c.ws, a.ws, b.ws], { ...link, maxConcurrentJobs: 2 }));
    nodes.push(await startInstantNode([b.ws, a.ws, c.ws], { ...link, maxConcurrentJobs: 2 }));
    for (const instance of [a, b]) await until(async () => (await instance.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 2, 20_000, 'both nodes in the pools');
    for (let s = 0; s < SESSIONS; s++) {
      const client = await SessionClient.connect(`${(s % 2 === 0 ? a : b).ws}/ws/session`);
      await client.init({ audio_format: 'pcm16' });
      clients.push(client);
    }

    // Round 1: C dies once a few answers are in.
    speakAll(0);
    await until(async () => (await answeredSoFar()) >= 10, 30_000, 'first answers');
    await c.kill('SIGKILL');
    const round1 = await collectAll();
    expectRound(round1, 0);
    await until(async () => (await a.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 2, 20_000, 'the node of C back in the pools');
    const moved = nodes[0]!.node.status().link;
    expect([`:${a.port}/`, `:${b.port}/`].some((p) => moved.schedulerUrl.includes(p))).toBe(true);

    // Round 2: Redis restarts (empty) mid-load.
    speakAll(UTTERANCES);
    await until(async () => (await answeredSoFar()) >= 10, 30_000, 'first answers of round 2');
    await redis.stop();
    redis = await startRedisServer({ port: redis.port });
    const round2 = await collectAll();
    expectRound(round2, UTTERANCES);
    const extra = await Promise.all(clients.map((client) => client.sync()));
    expect(extra.flat()).toEqual([]);

    // Both survivors are alive and see the fleet again, written back into the new Redis.
    for (const instance of [a, b]) {
      expect((await instance.health()).body).toBe('OK');
      await until(async () => (await instance.getJson<Pools>('/api/v1/pools')).pools['en:es']?.length === 2, 20_000, 'pools resynchronized');
      await until(async () => (await instance.getJson<{ store: string; instances: unknown[] }>('/api/v1/instances')).instances.length === 2, 20_000, 'two instances');
    }
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    const counters = await Promise.all([a, b].map(async (i) => (await i.metrics()).match(/linguamesh_scheduler_(jobs_reassigned_total|job_messages_dropped_total)\{[^\n]*/g) ?? []));
    console.log(`[fleet losses] ${SESSIONS * UTTERANCES * 2} utterances; A: ${counters[0]!.join(', ') || 'none'}; B: ${counters[1]!.join(', ') || 'none'}`);
    const raw = new Redis(redis.url);
    await until(async () => (await raw.keys('lm:{node:*}:slots')).length === 0, 15_000, 'no slot left');
    raw.disconnect();
  }, 240_000);
});
