/**
 * Attempts and their ends (PROTOCOL.md §5.4–§5.5; §12 items 26–29): a job timeout cancels the
 * attempt on its node and reassigns the job with `attempt_id` + 1, a late result of the old attempt
 * is dropped, four timeouts fail the job with JOB_TIMEOUT, a lost node's jobs move at once, a job
 * without a node waits 10 s for one, MODEL_NOT_AVAILABLE / NODE_OVERLOADED reassign, other failures
 * reach the client, and a client socket that closes cancels its jobs. Scripted nodes, FakeClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { OTHER_EPOCH } from '../../support/node-frames.js';
import { opusSilence, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness, Message, ScriptedNode } from '../../support/dispatch-harness.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const ids = (n: number) => Array.from({ length: n }, (_, i) => `node-0000000${i + 1}`);
const assigns = (messages: Message[]) => messages.filter((m) => m.type === 'job_assign');

async function nodes(h: DispatchHarness, count: number): Promise<ScriptedNode[]> {
  const out: ScriptedNode[] = [];
  for (const id of ids(count)) out.push(await h.readyNode(id));
  return out;
}

async function slots(h: DispatchHarness): Promise<Record<string, number>> {
  return (await h.getJson<{ jobs: { reservations: Record<string, number> } }>('/api/v1/dispatch')).body.jobs.reservations;
}

describe('job timeout and reassignment', () => {
  it('cancels the attempt on N1 after 60 s, reassigns to N2 with attempt_id 2, drops N1\'s late result and delivers N2\'s (§12 item 26)', async () => {
    t = await startDispatchHarness();
    const [n1, n2] = await nodes(t, 2);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1!.nextAssign();
    n1!.ack(first);
    await t.clock.advanceAsync(59_999);
    expect(assigns(await n2!.sync())).toEqual([]);
    await t.clock.advanceAsync(1);
    await expect(n1!.client.nextOfType('job_cancel')).resolves.toEqual({ type: 'job_cancel', job_id: first.job_id, trace_id: first.trace_id, reason: 'job_timeout', attempt_id: 1 });
    const second = await n2!.nextAssign();
    expect(second).toMatchObject({ job_id: first.job_id, attempt_id: 2, utterance_index: 0, audio: first.audio });
    n1!.result(first, { text_asr: 'late' });
    await n1!.sync();
    expect(await session.sync()).toEqual([]);
    n2!.result(second, { text_asr: 'from n2' });
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ job_id: first.job_id, utterance_index: 0, text_asr: 'from n2' });
    expect(await slots(t)).toEqual({});
    const metrics = await (await request(`${t.http}/metrics`)).body.text();
    expect(metrics).toMatch(/linguamesh_scheduler_jobs_reassigned_total\{reason="job_timeout"\} 1/);
    expect(metrics).toMatch(/linguamesh_scheduler_job_messages_dropped_total\{reason="stale"\} 1/);
    expect(metrics).toMatch(/linguamesh_scheduler_job_latency_seconds_count 1/);
  });

  it('fails a job that timed out on four nodes in turn with JOB_TIMEOUT: attempts 1–4, no fifth job_assign (§12 item 27)', async () => {
    t = await startDispatchHarness();
    const all = await nodes(t, 5);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const seen: Array<{ node: string; attempt: unknown }> = [];
    let jobId: unknown;
    for (let attempt = 1; attempt <= 4; attempt++) {
      const node = all[attempt - 1]!;
      const job = await node.nextAssign();
      jobId ??= job.job_id;
      expect(job.job_id).toBe(jobId);
      seen.push({ node: node.nodeId, attempt: job.attempt_id });
      await t.clock.advanceAsync(60_000);
      await expect(node.client.nextOfType('job_cancel')).resolves.toMatchObject({ reason: 'job_timeout', attempt_id: attempt });
    }
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'JOB_TIMEOUT', details: { job_id: jobId, utterance_index: 0 } });
    expect(assigns(await all[4]!.sync())).toEqual([]);
    expect(await slots(t)).toEqual({});
  });

  it('moves the jobs of a node whose socket closes to another node at once, with attempt_id + 1 (§12 item 28)', async () => {
    t = await startDispatchHarness();
    const [n1, n2] = await nodes(t, 2);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1!.nextAssign();
    const at = t.clock.now();
    await n1!.close();
    const moved = await n2!.nextAssign();
    expect(moved).toMatchObject({ job_id: first.job_id, attempt_id: 2 });
    expect(t.clock.now()).toBe(at);
    expect(await slots(t)).toEqual({ 'node-00000002': 1 });
  });

  it('moves the jobs of a node that registers again with another epoch', async () => {
    t = await startDispatchHarness();
    const [n1, n2] = await nodes(t, 2);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1!.nextAssign();
    // A new process of node 1 on a new socket, while the old socket is still open.
    await n1!.client.close();
    const again = await t.readyNode('node-00000001', { epoch: OTHER_EPOCH });
    const moved = await n2!.nextAssign();
    expect(moved).toMatchObject({ job_id: first.job_id, attempt_id: 2 });
    expect(assigns(await again.sync())).toEqual([]);
  });

  it('fails a job with no eligible node with NO_AVAILABLE_NODE at 10 s, not before (§12 item 29)', async () => {
    t = await startDispatchHarness();
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await t.clock.advanceAsync(9_999);
    expect(await session.sync()).toEqual([]);
    await t.clock.advanceAsync(1);
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'NO_AVAILABLE_NODE', details: { job_id: expect.any(String), utterance_index: 0, pool: 'en:es' } });
  });

  it('gives a waiting job to a node that becomes eligible at 5 s, at once (§12 item 29)', async () => {
    t = await startDispatchHarness();
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await t.clock.advanceAsync(5_000);
    const at = t.clock.now();
    const n1 = await t.readyNode('node-00000001');
    await expect(n1.nextAssign()).resolves.toMatchObject({ attempt_id: 1 });
    expect(t.clock.now()).toBe(at);
    await t.clock.advanceAsync(10_000);
    expect(await session.sync()).toEqual([]);
  });

  it('reassigns on MODEL_NOT_AVAILABLE and NODE_OVERLOADED results and delivers the third node\'s result', async () => {
    t = await startDispatchHarness();
    const [n1, n2, n3] = await nodes(t, 3);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1!.nextAssign();
    n1!.result(first, { success: false, error: { code: 'MODEL_NOT_AVAILABLE', message: 'Service tts@1.0.0 is not available: not_running', details: { service_id: 'tts', reason: 'not_running' } } });
    const second = await n2!.nextAssign();
    expect(second).toMatchObject({ job_id: first.job_id, attempt_id: 2 });
    n2!.result(second, { success: false, error: { code: 'NODE_OVERLOADED', message: 'node at capacity', details: { running_jobs: 4, max_concurrent_jobs: 4 } } });
    const third = await n3!.nextAssign();
    expect(third).toMatchObject({ job_id: first.job_id, attempt_id: 3 });
    n3!.result(third);
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ job_id: first.job_id });
    expect(await session.sync()).toEqual([]);
  });

  it('keeps a job refused MODEL_NOT_AVAILABLE by the only node waiting for another one, then fails it NO_AVAILABLE_NODE', async () => {
    t = await startDispatchHarness();
    const [n1] = await nodes(t, 1);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1!.nextAssign();
    n1!.result(first, { success: false, error: { code: 'MODEL_NOT_AVAILABLE', message: 'no tts', details: { service_id: 'tts', reason: 'not_installed' } } });
    await n1!.sync();
    await t.clock.advanceAsync(10_000);
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'NO_AVAILABLE_NODE' });
    expect(assigns(await n1!.sync())).toEqual([]);
  });

  it('sends other failures to the client with the node\'s code and message, and job_id and utterance_index added to its details', async () => {
    t = await startDispatchHarness();
    const [n1] = await nodes(t, 1);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const job = await n1!.nextAssign();
    n1!.result(job, { success: false, error: { code: 'PROCESSING_ERROR', message: 'audio could not be decoded', details: { stage: 'decode' } } });
    await expect(session.nextOfType('error')).resolves.toEqual({
      type: 'error',
      code: 'PROCESSING_ERROR',
      message: 'audio could not be decoded',
      details: { stage: 'decode', job_id: job.job_id, utterance_index: 0 },
    });
  });

  it('cancels the jobs of a client socket that closes: job_cancel session_closed, the late result dropped, the slot freed', async () => {
    t = await startDispatchHarness();
    const [n1] = await nodes(t, 1);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const job = await n1!.nextAssign();
    await session.close();
    await expect(n1!.client.nextOfType('job_cancel')).resolves.toEqual({ type: 'job_cancel', job_id: job.job_id, trace_id: job.trace_id, reason: 'session_closed', attempt_id: 1 });
    n1!.result(job);
    await n1!.sync();
    expect(await slots(t)).toEqual({});
    expect((await t.getJson<{ sessions: number }>('/api/v1/dispatch')).body.sessions).toBe(0);
  });

  it('drops job_ack and job_result of a node the job is not assigned to, and relays asr_partial of the current node with job_id ""', async () => {
    t = await startDispatchHarness();
    const [n1, n2] = await nodes(t, 2);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const job = await n1!.nextAssign();
    n2!.ack(job);
    n2!.result(job);
    n2!.client.send({ type: 'asr_partial', job_id: job.job_id, node_id: n2!.nodeId, session_id: job.session_id, utterance_index: 0, text: 'nope', is_final: false, trace_id: job.trace_id });
    await n2!.sync();
    expect((await session.sync({ uiEvents: true })).map((m) => m.event)).toEqual(['DISPATCHED']);
    n1!.client.send({ type: 'asr_partial', job_id: job.job_id, node_id: n1!.nodeId, session_id: job.session_id, utterance_index: 0, text: 'where is', is_final: false, trace_id: job.trace_id });
    await expect(session.nextOfType('asr_partial')).resolves.toEqual({ type: 'asr_partial', session_id: session.sessionId, utterance_index: 0, job_id: '', text: 'where is', is_final: false, trace_id: job.trace_id });
    n1!.ack(job);
    expect((await session.sync({ uiEvents: true })).map((m) => [m.type, m.event])).toEqual([['ui_event', 'NODE_ACCEPTED']]);
  });
});
