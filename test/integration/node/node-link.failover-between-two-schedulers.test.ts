/**
 * A node with two scheduler URLs against two real in-process schedulers (issue 10, point 2): it
 * registers on A; when A stops it registers on B with the same node_id at once (well inside the
 * first backoff wait); when B stops and A is back on its old port, it registers on A again. All
 * three run on one FakeClock over real loopback sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler } from '../../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../../src/cli/start-scheduler.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { pumpUntil } from '../../support/hotplug-harness.js';
import { startTestNode } from '../../support/node-harness.js';

const RECONNECT_MIN_MS = 5_000;

const clock = new FakeClock();
const schedulers = new Set<SchedulerHandle>();
let node: Awaited<ReturnType<typeof startTestNode>>;
let urlA: string;
let urlB: string;
let portA: number;

async function startOn(port: number): Promise<SchedulerHandle> {
  const scheduler = startScheduler({ host: '127.0.0.1', port, clock, logger: silentLogger(), allowCpuNodes: true });
  schedulers.add(scheduler);
  await scheduler.ready;
  return scheduler;
}

async function stop(scheduler: SchedulerHandle): Promise<void> {
  await scheduler.stop();
  schedulers.delete(scheduler);
}

async function nodeIdsOn(scheduler: SchedulerHandle): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${scheduler.port}/api/v1/nodes`);
  return ((await res.json()) as { nodes: { nodeId: string }[] }).nodes.map((n) => n.nodeId);
}

const link = () => node.node.status().link;
const registeredOn = (url: string) => () => link().state === 'registered' && link().schedulerUrl === url;

let a: SchedulerHandle;
let b: SchedulerHandle;

beforeAll(async () => {
  a = await startOn(0);
  b = await startOn(0);
  portA = a.port;
  urlA = `ws://127.0.0.1:${a.port}/ws/node`;
  urlB = `ws://127.0.0.1:${b.port}/ws/node`;
  node = await startTestNode(`ws://127.0.0.1:${a.port}`, {
    clock,
    schedulerUrl: [`ws://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`],
    reconnectMinMs: RECONNECT_MIN_MS,
    random: () => 0.5,
  });
});

afterAll(async () => {
  await node?.node.stop();
  await Promise.all([...schedulers].map((s) => s.stop()));
});

describe('a node with two schedulers', () => {
  it('registers on the first URL and says so on GET /status', async () => {
    await pumpUntil(clock, registeredOn(urlA), 'registered on A', { stepMs: 10 });
    const status = (await node.http('GET', '/status')).json() as { link: { schedulerUrl: string; schedulerUrls: string[]; nodeId: string } };
    expect(status.link).toMatchObject({ schedulerUrl: urlA, schedulerUrls: [urlA, urlB] });
    expect(await nodeIdsOn(a)).toEqual([status.link.nodeId]);
    expect(await nodeIdsOn(b)).toEqual([]);
    expect(node.logs.find((l) => l.msg === 'registered with the scheduler')).toMatchObject({ schedulerUrl: urlA, nodeId: status.link.nodeId });
  });

  it('A stops: registers on B with the same node_id, at once rather than after the backoff', async () => {
    const nodeId = link().nodeId!;
    await stop(a);
    const lostAt = clock.now();
    await pumpUntil(clock, registeredOn(urlB), 'registered on B', { stepMs: 10 });
    expect(clock.now() - lostAt).toBeLessThan(RECONNECT_MIN_MS);
    expect(link().nodeId).toBe(nodeId);
    expect(await nodeIdsOn(b)).toEqual([nodeId]);
    expect(node.of('link.reconnectScheduled').at(-1)).toMatchObject({ schedulerUrl: urlB, failover: true });
    expect(((await node.http('GET', '/status')).json() as { link: { schedulerUrl: string } }).link.schedulerUrl).toBe(urlB);
  });

  it('B stops and A is back on its old port: registers on A again with the same node_id', async () => {
    const nodeId = link().nodeId!;
    a = await startOn(portA);
    await stop(b);
    const lostAt = clock.now();
    await pumpUntil(clock, registeredOn(urlA), 'registered on A again', { stepMs: 10 });
    expect(clock.now() - lostAt).toBeLessThan(RECONNECT_MIN_MS);
    expect(link().nodeId).toBe(nodeId);
    expect(await nodeIdsOn(a)).toEqual([nodeId]);
    expect(node.of('link.registered').map((e) => e.schedulerUrl)).toEqual([urlA, urlB, urlA]);
  });
});
