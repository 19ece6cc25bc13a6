/**
 * Which nodes a job may go to (PROTOCOL.md §5.3, issue "Jobs end to end", dispatcher): only ready
 * nodes of the job's pool `src:tgt`. A node that registered but is not ready yet (no healthy
 * heartbeats) and a ready node of another pool (en→fr) get no job; the job waits, and goes at once
 * to the first ready node of en:es that appears. Scripted nodes, FakeClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { registerFrame } from '../../support/node-frames.js';
import { opusSilence, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness, Message } from '../../support/dispatch-harness.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const assigns = (messages: Message[]) => messages.filter((m) => m.type === 'job_assign');

describe('dispatch eligibility', () => {
  it('skips a node still registering and a ready node of another pool; a ready en:es node gets the waiting job at once', async () => {
    t = await startDispatchHarness();
    const registering = await t.connectNode();
    registering.send(registerFrame({ node_id: 'node-0000000R', max_concurrent_jobs: 4 }));
    await registering.nextOfType('node_register_ack');
    const french = await t.readyNode('node-0000000F', { services: { nmt: ['en:fr'], tts: ['fr'] } });

    const session = await t.openSession();
    session.chunk(opusSilence(10), true);
    await session.sync();
    await t.clock.advanceAsync(5_000);
    expect(assigns(await registering.sync())).toEqual([]);
    expect(assigns(await french.sync())).toEqual([]);
    expect((await t.getJson<{ jobs: { queued: number } }>('/api/v1/dispatch')).body.jobs).toMatchObject({ queued: 1 });

    const at = t.clock.now();
    const spanish = await t.readyNode('node-0000000S');
    await expect(spanish.nextAssign()).resolves.toMatchObject({ attempt_id: 1, utterance_index: 0, src_lang: 'en', tgt_lang: 'es' });
    expect(t.clock.now()).toBe(at);
    expect(assigns(await registering.sync())).toEqual([]);
    expect(assigns(await french.sync())).toEqual([]);
  });
});
