/**
 * Node selection (PROTOCOL.md §5.3; §12 items 24–25): the least loaded node of the pool gets the
 * job, two jobs at once never take one last slot, a full node gets none, and a session sticks to
 * its previous node while that node is a candidate. Scripted nodes on a FakeClock scheduler; slots
 * of other jobs are taken directly in the reservations store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { opusSilence, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness } from '../../support/dispatch-harness.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const N1 = 'node-00000001';
const N2 = 'node-00000002';

async function dispatchStatus(h: DispatchHarness) {
  return (await h.getJson<{ sessions: number; jobs: { queued: number; inFlight: number; reservations: Record<string, number> } }>('/api/v1/dispatch')).body;
}

describe('node selection', () => {
  it('sends the job to the least loaded node: N1 at 2 of 4, N2 at 0 of 4 → N2 (§12 item 24)', async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1);
    const n2 = await t.readyNode(N2);
    await t.seedSlots(N1, 2);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const job = await n2.nextAssign();
    expect(job).toMatchObject({ attempt_id: 1, session_id: session.sessionId, utterance_index: 0, job_id: expect.stringMatching(/^job-[0-9a-f-]{36}$/) });
    expect((await n1.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    expect((await dispatchStatus(t)).jobs.reservations).toEqual({ [N1]: 2, [N2]: 1 });
  });

  it('gives two jobs at once one each when both nodes are at 3 of 4, and none to a node at 4 of 4 (§12 item 24)', async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1);
    const n2 = await t.readyNode(N2);
    await t.seedSlots(N1, 3);
    await t.seedSlots(N2, 3);
    const a = await t.openSession();
    const b = await t.openSession();
    a.chunk(opusSilence(10), true);
    b.chunk(opusSilence(10), true);
    const [toN1, toN2] = await Promise.all([n1.nextAssign(), n2.nextAssign()]);
    expect(new Set([toN1.session_id, toN2.session_id])).toEqual(new Set([a.sessionId, b.sessionId]));
    // Both nodes are now at 4 of 4: a third job waits.
    const c = await t.openSession();
    c.chunk(opusSilence(10), true);
    await c.sync();
    expect([...(await n1.sync()), ...(await n2.sync())].filter((m) => m.type === 'job_assign')).toEqual([]);
    expect((await dispatchStatus(t)).jobs).toMatchObject({ queued: 1, inFlight: 2, reservations: { [N1]: 4, [N2]: 4 } });
    // A slot freed by a result is taken by the waiting job at once.
    n1.result(toN1);
    await expect(n1.nextAssign()).resolves.toMatchObject({ session_id: c.sessionId });
  });

  it('counts the reported running_jobs: a node reporting 4 running of 4 is full', async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1, { runningJobs: 4 });
    const n2 = await t.readyNode(N2, { runningJobs: 3 });
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await expect(n2.nextAssign()).resolves.toMatchObject({ utterance_index: 0 });
    expect((await n1.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
  });

  it('does not count a job of its own that ended since the report: a node that reported 1 of 1 running takes the next job once that job\'s result is in', async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1, { maxConcurrentJobs: 1 });
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1.nextAssign();
    n1.runningJobs = 1;
    n1.heartbeat();
    session.chunk(opusSilence(10), true);
    await session.sync();
    expect((await n1.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    n1.result(first);
    await expect(n1.nextAssign()).resolves.toMatchObject({ utterance_index: 1 });
  });

  it('retries a waiting job at least every second: a slot freed outside the dispatcher is taken within 1 s', async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1);
    await t.seedSlots(N1, 4);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await session.sync();
    expect((await n1.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    await t.reservations.release({ nodeId: N1, jobId: 'seed-1', attemptId: 1 }, new AbortController().signal);
    await t.clock.advanceAsync(999);
    expect((await n1.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    await t.clock.advanceAsync(1);
    await expect(n1.nextAssign()).resolves.toMatchObject({ session_id: session.sessionId });
  });

  it("keeps a session on its previous node while it is a candidate: N1 at 3 of 4 over N2 at 0 of 4 (§12 item 25)", async () => {
    t = await startDispatchHarness();
    const n1 = await t.readyNode(N1);
    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    const first = await n1.nextAssign();
    n1.result(first);
    await session.nextOfType('translation_result');
    const n2 = await t.readyNode(N2);
    await t.seedSlots(N1, 3);
    session.chunk(opusSilence(10), true);
    await expect(n1.nextAssign()).resolves.toMatchObject({ utterance_index: 1, attempt_id: 1 });
    expect((await n2.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    // Another session has no previous node: the least loaded one.
    const other = await t.openSession();
    other.chunk(opusSilence(10), true);
    await expect(n2.nextAssign()).resolves.toMatchObject({ session_id: other.sessionId });
  });
});
