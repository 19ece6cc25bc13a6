/**
 * The dispatcher as `GET /metrics` shows it (issue "Jobs end to end", scheduler item 3): jobs
 * queued and in flight, jobs dispatched, failed by code, reassigned by reason, and the end-to-end
 * latency histogram, each read while a job is in that state. And a node that stops heartbeating
 * while its socket stays open: once it goes offline its job is reassigned at once (§5.4).
 * Scripted nodes, FakeClock.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { opusSilence, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness } from '../../support/dispatch-harness.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** The value of one sample of `/metrics` (`name` with its labels as written), or undefined. */
async function sample(h: DispatchHarness, name: string): Promise<number | undefined> {
  const text = await (await request(`${h.http}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function samples(h: DispatchHarness, names: string[]): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const name of names) out[name] = await sample(h, name);
  return out;
}

const GAUGES = ['linguamesh_scheduler_jobs_queued', 'linguamesh_scheduler_jobs_in_flight', 'linguamesh_scheduler_jobs_dispatched_total'];

describe('dispatch metrics on /metrics', () => {
  it('counts a job queued with no node, in flight once assigned, failed by its code; a delivered result in the latency histogram', async () => {
    t = await startDispatchHarness();
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await session.sync();
    expect(await samples(t, GAUGES)).toEqual({ linguamesh_scheduler_jobs_queued: 1, linguamesh_scheduler_jobs_in_flight: 0, linguamesh_scheduler_jobs_dispatched_total: 0 });

    const node = await t.readyNode('node-00000001');
    const failing = await node.nextAssign();
    expect(await samples(t, GAUGES)).toEqual({ linguamesh_scheduler_jobs_queued: 0, linguamesh_scheduler_jobs_in_flight: 1, linguamesh_scheduler_jobs_dispatched_total: 1 });
    node.result(failing, { success: false, error: { code: 'PROCESSING_ERROR', message: 'audio could not be decoded', details: { stage: 'decode' } } });
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'PROCESSING_ERROR' });
    expect(await sample(t, 'linguamesh_scheduler_jobs_failed_total{code="PROCESSING_ERROR"}')).toBe(1);
    expect(await sample(t, 'linguamesh_scheduler_jobs_in_flight')).toBe(0);

    session.chunk(opusSilence(10), true);
    const good = await node.nextAssign();
    await t.clock.advanceAsync(300);
    node.result(good);
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ job_id: good.job_id });
    // 300 ms from the end of the utterance to its result, on the fake clock: in the 0.5 s bucket, not the 0.25 s one.
    expect(await samples(t, ['linguamesh_scheduler_job_latency_seconds_count', 'linguamesh_scheduler_job_latency_seconds_bucket{le="0.25"}', 'linguamesh_scheduler_job_latency_seconds_bucket{le="0.5"}'])).toEqual({
      linguamesh_scheduler_job_latency_seconds_count: 1,
      'linguamesh_scheduler_job_latency_seconds_bucket{le="0.25"}': 0,
      'linguamesh_scheduler_job_latency_seconds_bucket{le="0.5"}': 1,
    });

    await node.close();
    session.chunk(opusSilence(10), true);
    await session.sync();
    expect(await sample(t, 'linguamesh_scheduler_jobs_queued')).toBe(1);
    await t.clock.advanceAsync(10_000);
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'NO_AVAILABLE_NODE' });
    expect(await samples(t, ['linguamesh_scheduler_jobs_queued', 'linguamesh_scheduler_jobs_failed_total{code="NO_AVAILABLE_NODE"}', 'linguamesh_scheduler_jobs_failed_total{code="PROCESSING_ERROR"}', 'linguamesh_scheduler_jobs_dispatched_total'])).toEqual({
      linguamesh_scheduler_jobs_queued: 0,
      'linguamesh_scheduler_jobs_failed_total{code="NO_AVAILABLE_NODE"}': 1,
      'linguamesh_scheduler_jobs_failed_total{code="PROCESSING_ERROR"}': 1,
      linguamesh_scheduler_jobs_dispatched_total: 2,
    });
  });
});

describe('a node that goes offline with a job in flight', () => {
  it('stops heartbeating with its socket open: offline at 45 s, and its job moves to the other node at once as attempt 2', async () => {
    t = await startDispatchHarness({ heartbeatTimeoutMs: 45_000 });
    const n1 = await t.readyNode('node-00000001');
    const n2 = await t.readyNode('node-00000002', { runningJobs: 1 });
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    // The least loaded node takes it: node 1 at 0 of 4.
    const first = await n1.nextAssign();
    n1.ack(first);
    await t.clock.advanceAsync(30_000);
    n2.heartbeat();
    await n2.sync();
    await t.clock.advanceAsync(14_999);
    expect((await n2.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    await t.clock.advanceAsync(1);
    const moved = await n2.nextAssign();
    expect(moved).toMatchObject({ job_id: first.job_id, attempt_id: 2, utterance_index: 0 });
    expect(await sample(t, 'linguamesh_scheduler_jobs_reassigned_total{reason="node_lost"}')).toBe(1);
    n2.result(moved);
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ job_id: first.job_id, utterance_index: 0 });
  });
});
