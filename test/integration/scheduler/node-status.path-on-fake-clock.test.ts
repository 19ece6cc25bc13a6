/**
 * The status machine seen from a node (PROTOCOL.md §4.3–§4.5; §12 items 17–21): raw ws clients
 * send heartbeats, the scheduler runs on a FakeClock that the test advances, and every transition
 * arrives as `node_status`. No test sleeps for a timer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import type { LinkClient } from '../../support/node-link-client.js';
import { heartbeatFrame, OTHER_EPOCH, registerFrame, UNHEALTHY } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** Sends heartbeats (H healthy, U unhealthy) with increasing seq; returns the messages they caused. */
async function beat(client: LinkClient, nodeId: string, pattern: string, seq: { next: number }) {
  for (const c of pattern) client.send(heartbeatFrame(nodeId, seq.next++, c === 'H' ? {} : UNHEALTHY));
  return client.sync();
}

const statusOf = (m: Record<string, unknown>) => [m.status, m.reason];

describe('node status path', () => {
  it('goes registering → ready → degraded → ready → offline, announcing each transition, then closes with 4000', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    expect(await beat(client, nodeId, 'HH', seq)).toEqual([]);
    const ready = await beat(client, nodeId, 'H', seq);
    expect(ready).toEqual([{ type: 'node_status', node_id: nodeId, status: 'ready', reason: 'healthy_heartbeats', timestamp: t.clock.now() }]);
    expect(await beat(client, nodeId, 'UU', seq)).toEqual([]);
    expect((await beat(client, nodeId, 'U', seq)).map(statusOf)).toEqual([['degraded', 'unhealthy_heartbeats']]);
    expect((await beat(client, nodeId, 'H', seq)).map(statusOf)).toEqual([['ready', 'recovered']]);
    await t.clock.advanceAsync(44_999);
    expect(await client.sync()).toEqual([]);
    await t.clock.advanceAsync(1);
    await expect(client.nextOfType('node_status')).resolves.toMatchObject({ status: 'offline', reason: 'heartbeat_timeout' });
    await expect(client.closed).resolves.toEqual({ code: 4000, reason: 'heartbeat_timeout' });
    const { body } = await t.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`);
    expect(body).toMatchObject({ status: 'offline', reason: 'heartbeat_timeout', pools: { speech: [], text: [] } });
  });

  it('needs three healthy heartbeats in a row to leave registering (§12 item 17)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    expect(await beat(client, nodeId, 'HUHH', seq)).toEqual([]);
    expect((await beat(client, nodeId, 'H', seq)).map(statusOf)).toEqual([['ready', 'healthy_heartbeats']]);
  });

  it('keeps a ready node ready on U, U, H, and degrades it when a later U makes 3 unhealthy of the last 5 (§12 item 18)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    await beat(client, nodeId, 'HHH', seq);
    expect(await beat(client, nodeId, 'UUH', seq)).toEqual([]);
    expect(await beat(client, nodeId, 'H', seq)).toEqual([]);
    expect((await beat(client, nodeId, 'U', seq)).map(statusOf)).toEqual([['degraded', 'unhealthy_heartbeats']]);
  });

  it('degrades on U, H, U, H, U exactly at the fifth heartbeat (§12 item 18)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    await beat(client, nodeId, 'HHH', seq);
    expect(await beat(client, nodeId, 'UHUH', seq)).toEqual([]);
    expect((await beat(client, nodeId, 'U', seq)).map(statusOf)).toEqual([['degraded', 'unhealthy_heartbeats']]);
  });

  it('degrades a node still registering after 60 s of unhealthy heartbeats, reason warmup_timeout (§12 item 19)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    const registeredAt = t.clock.now();
    for (let i = 0; i < 4; i++) {
      expect(await beat(client, nodeId, 'U', seq)).toEqual([]);
      await t.clock.advanceAsync(15_000);
    }
    await expect(client.nextOfType('node_status')).resolves.toEqual({ type: 'node_status', node_id: nodeId, status: 'degraded', reason: 'warmup_timeout', timestamp: registeredAt + 60_000 });
  });

  it('drops stale heartbeats silently: no health count, no capability change (§12 item 21)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    client.send(heartbeatFrame(nodeId, 5));
    client.send(heartbeatFrame(nodeId, 6));
    // Stale: seq not above 6 in epoch E, and another epoch than the registration's. Both would make the node ready.
    client.send(heartbeatFrame(nodeId, 4, { tts: ['fr'] }));
    client.send(heartbeatFrame(nodeId, undefined, { tts: ['fr'] }, { epoch: OTHER_EPOCH, seq: 100 }));
    expect(await client.sync()).toEqual([]);
    const { body } = await t.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`);
    expect(body.status).toBe('registering');
    expect(body.capabilities.ttsLanguages).toEqual(['es']);
    client.send(heartbeatFrame(nodeId, 7));
    expect((await client.sync()).map(statusOf)).toEqual([['ready', 'healthy_heartbeats']]);
    const metrics = await (await request(`${t.http}/metrics`)).body.text();
    expect(metrics).toContain('linguamesh_scheduler_heartbeats_total{outcome="stale"} 2');
    expect(metrics).toContain('linguamesh_scheduler_heartbeats_total{outcome="accepted"} 3');
  });

  it('a stale heartbeat does not reset liveness', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    client.send(heartbeatFrame(nodeId, 5));
    await client.sync();
    await t.clock.advanceAsync(30_000);
    client.send(heartbeatFrame(nodeId, 5));
    await client.sync();
    await t.clock.advanceAsync(15_000);
    await expect(client.nextOfType('node_status')).resolves.toMatchObject({ status: 'offline', reason: 'heartbeat_timeout' });
  });

  it('treats heartbeats without epoch/seq (a Lingua node) as never stale', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode({ epoch: undefined });
    for (let i = 0; i < 3; i++) client.send(heartbeatFrame(nodeId, undefined));
    expect((await client.sync()).map(statusOf)).toEqual([['ready', 'healthy_heartbeats']]);
  });

  it('takes a node whose connection closed offline (connection_closed) and forgets it after the retention time', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    await client.close();
    const offline = async () => (await t!.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`)).body;
    await expect.poll(offline).toMatchObject({ status: 'offline', reason: 'connection_closed' });
    await t.clock.advanceAsync(59_999);
    expect((await t.getJson(`/api/v1/nodes/${nodeId}`)).status).toBe(200);
    await t.clock.advanceAsync(1);
    expect((await t.getJson(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
  });

  it('drains on operator request and leaves drain into ready or degraded by the last heartbeat (§4.4)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    const seq = { next: 1 };
    await beat(client, nodeId, 'HHH', seq);
    const drain = await request(`${t.http}/api/v1/nodes/${nodeId}/drain`, { method: 'POST' });
    expect(drain.statusCode).toBe(202);
    await drain.body.dump();
    expect((await client.sync()).map((m) => [m.type, m.status ?? m.command, m.reason])).toEqual([
      ['node_status', 'draining', 'drain_requested'],
      ['node_control', 'drain', 'drain_requested'],
    ]);
    expect((await t.getJson<{ pools: Record<string, string[]> }>('/api/v1/pools')).body.pools).toEqual({});
    // Draining: heartbeats update capabilities but cause no health transition.
    expect(await beat(client, nodeId, 'UUUU', seq)).toEqual([]);
    const undrain = await request(`${t.http}/api/v1/nodes/${nodeId}/undrain`, { method: 'POST' });
    await undrain.body.dump();
    expect((await client.sync()).map(statusOf)).toEqual([['degraded', 'drain_cancelled']]);
    expect((await beat(client, nodeId, 'H', seq)).map(statusOf)).toEqual([['ready', 'recovered']]);
    expect((await request(`${t.http}/api/v1/nodes/node-00000000/drain`, { method: 'POST' })).statusCode).toBe(404);
  });

  it('leaves offline only by registering again', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    await t.clock.advanceAsync(45_000);
    await expect(client.closed).resolves.toMatchObject({ code: 4000 });
    const again = await t.connectNode();
    again.send(registerFrame({ node_id: nodeId }));
    await expect(again.nextOfType('node_register_ack')).resolves.toMatchObject({ node_id: nodeId });
    const seq = { next: 1 };
    expect((await beat(again, nodeId, 'HHH', seq)).map(statusOf)).toEqual([['ready', 'healthy_heartbeats']]);
  });
});
