/**
 * `GET /metrics`: Prometheus text from a registry of the scheduler's own, counting nodes by status,
 * heartbeats by outcome, registrations by code and pool sizes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { heartbeatFrame, registerFrame } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

const running: TestScheduler[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function metricsOf(t: TestScheduler): Promise<string> {
  const res = await request(`${t.http}/metrics`);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body.text();
}

describe('scheduler metrics', () => {
  it('counts nodes by status, heartbeats, registrations by code and pool sizes, per instance', async () => {
    const t = await startTestScheduler();
    const other = await startTestScheduler();
    running.push(t, other);
    const { client, nodeId } = await t.registerNode();
    for (let seq = 1; seq <= 3; seq++) client.send(heartbeatFrame(nodeId, seq));
    client.send(heartbeatFrame(nodeId, 1));
    client.send(heartbeatFrame('node-FFFFFFFF', 9));
    const refused = await t.connectNode();
    refused.send(registerFrame({ capability_schema_version: '9' }));
    await refused.nextOfType('node_error');
    await client.sync();
    await t.registerNode();

    const text = await metricsOf(t);
    expect(text).toContain('linguamesh_scheduler_nodes{status="ready"} 1');
    expect(text).toContain('linguamesh_scheduler_nodes{status="registering"} 1');
    expect(text).toContain('linguamesh_scheduler_heartbeats_total{outcome="received"} 5');
    expect(text).toContain('linguamesh_scheduler_heartbeats_total{outcome="accepted"} 3');
    expect(text).toContain('linguamesh_scheduler_heartbeats_total{outcome="stale"} 1');
    expect(text).toContain('linguamesh_scheduler_heartbeats_total{outcome="invalid"} 1');
    expect(text).toContain('linguamesh_scheduler_registrations_total{outcome="accepted",code=""} 2');
    expect(text).toContain('linguamesh_scheduler_registrations_total{outcome="rejected",code="INVALID_CAPABILITY_SCHEMA"} 1');
    expect(text).toContain('linguamesh_scheduler_pool_size{pool="en:es",pipeline="speech"} 1');
    expect(text).toContain('linguamesh_scheduler_status_transitions_total{from="registering",to="ready",reason="healthy_heartbeats"} 1');

    const fresh = await metricsOf(other);
    expect(fresh).toContain('linguamesh_scheduler_heartbeats_total{outcome="received"} 0');
    expect(fresh).not.toContain('linguamesh_scheduler_pool_size{');
  });
});
