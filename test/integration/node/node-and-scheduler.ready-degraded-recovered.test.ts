/**
 * The node link against the real scheduler (issue "Node: hardware probe, scheduler link,
 * registration and heartbeats"): a node with a fake service registry registers, becomes `ready`
 * after three healthy heartbeats, degrades when its services report down, and recovers. Both roles
 * run in this process on one FakeClock, over real loopback sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../../support/node-harness.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';
import { pumpUntil } from '../../support/hotplug-harness.js';

const INTERVAL_MS = 1_000;
const SERVICES = [
  { id: 'asr-en', type: 'asr', state: 'running' as const, languages: { asr: ['en'] } },
  { id: 'mt-en-es', type: 'nmt', state: 'running' as const, languages: { nmt: [{ src: 'en', tgt: 'es' }] } },
  { id: 'tts-es', type: 'tts', state: 'running' as const, languages: { tts: ['es'] } },
];

let sched: TestScheduler;
let node: Awaited<ReturnType<typeof startTestNode>>;

type NodeView = { id: string; status: string; reason: string };
const view = async (): Promise<NodeView | undefined> => (await sched.getJson<{ nodes: NodeView[] }>('/api/v1/nodes')).body.nodes[0];
const schedulerStatus = () => node.node.status().link.schedulerStatus;

beforeAll(async () => {
  sched = await startTestScheduler({ heartbeatIntervalMs: INTERVAL_MS });
  node = await startTestNode(`ws://127.0.0.1:${sched.scheduler.port}`, { clock: sched.clock, heartbeatIntervalMs: INTERVAL_MS });
  for (const s of SERVICES) node.registry.set(s);
});

afterAll(async () => {
  await node.node.stop();
  await sched.stop();
});

describe('a node against the real scheduler', () => {
  it('registers and becomes ready after three healthy heartbeats', async () => {
    await pumpUntil(sched.clock, () => schedulerStatus() === 'registering', 'ack', { stepMs: 10 });
    expect((await view())?.status).toBe('registering');
    await pumpUntil(sched.clock, () => schedulerStatus() === 'ready', 'ready', { stepMs: 50 });
    expect(await view()).toMatchObject({ status: 'ready', reason: 'healthy_heartbeats' });
    const heartbeats = node.of('heartbeat.sent');
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    const pools = (await sched.getJson<Record<string, string[]>>('/api/v1/pools')).body;
    expect(JSON.stringify(pools)).toContain('en:es');
  });

  it('degrades when its services report down, and recovers when they run again', async () => {
    node.registry.setState('tts-es', 'error', 'crashed');
    await pumpUntil(sched.clock, () => schedulerStatus() === 'degraded', 'degraded', { stepMs: 50 });
    expect(await view()).toMatchObject({ status: 'degraded', reason: 'unhealthy_heartbeats' });
    const pools = (await sched.getJson<Record<string, string[]>>('/api/v1/pools')).body;
    expect(JSON.stringify(pools)).not.toContain('en:es');
    node.registry.setState('tts-es', 'running');
    await pumpUntil(sched.clock, () => schedulerStatus() === 'ready', 'recovered', { stepMs: 50 });
    expect(await view()).toMatchObject({ status: 'ready', reason: 'recovered' });
  });
});
