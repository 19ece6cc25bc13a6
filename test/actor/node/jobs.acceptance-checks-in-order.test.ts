/**
 * PROTOCOL.md §8.2, in order: (1) not registered → ignored; (2) a repeated job_id →
 * PROCESSING_ERROR `DUPLICATE_JOB_ID: …`; (3) the same (session, index, tgt_lang) under another job
 * id → `DUPLICATE_UTTERANCE_INDEX: …` (§12 item 34: another tgt_lang is accepted); (4) running jobs
 * ≥ max_concurrent_jobs → NODE_OVERLOADED `{running_jobs, max_concurrent_jobs}`, never queued;
 * duplicate keys kept for node_dedupe_retention_ms and bounded in number.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hang } from '../../fakes/speech.fake.js';
import { jobAssign, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

describe('jobs: acceptance checks (§8.2)', () => {
  it('check 1: a job_assign before registration gets no reply at all', async () => {
    h = await startJobsHarness({ registered: false });
    const job = jobAssign();
    await h.assign(job);
    expect(h.sent()).toEqual([]);
    expect(h.runtime.runningJobs()).toBe(0);
  });

  it('§12 item 34: repeated job_id → DUPLICATE_JOB_ID; same index, other tgt_lang → job_ack; same index and tgt_lang, new job_id → DUPLICATE_UTTERANCE_INDEX', async () => {
    h = await startJobsHarness({
      services: [
        { id: 'asr-1', type: 'asr', state: 'running', languages: { asr: ['en'] } },
        { id: 'nmt-1', type: 'nmt', state: 'running', languages: { nmt_any_to_any: ['en', 'es', 'fr'] } },
        { id: 'tts-1', type: 'tts', state: 'running', languages: { tts: ['es', 'fr'] } },
      ],
    });
    const first = jobAssign({ utterance_index: 7 });
    await h.assign(first);
    expect(h.resultsFor(first.job_id)).toEqual([expect.objectContaining({ success: true })]);

    await h.assign({ ...first, attempt_id: 2 });
    const duplicate = h.resultsFor(first.job_id)[1]!;
    expect(duplicate).toMatchObject({ success: false, attempt_id: 2, tts_format: 'opus', error: { code: 'PROCESSING_ERROR' } });
    expect(duplicate.error!.message.startsWith('DUPLICATE_JOB_ID: ')).toBe(true);

    const otherTarget = jobAssign({ utterance_index: 7, tgt_lang: 'fr' });
    await h.assign(otherTarget);
    expect(h.sentFor(otherTarget.job_id)[0]).toMatchObject({ type: 'job_ack' });

    const sameKey = jobAssign({ utterance_index: 7, tgt_lang: 'ES' });
    await h.assign(sameKey);
    expect(h.sentFor(sameKey.job_id)).toHaveLength(1);
    const refused = h.resultsFor(sameKey.job_id)[0]!;
    expect(refused).toMatchObject({ success: false, error: { code: 'PROCESSING_ERROR', details: { accepted_job_id: first.job_id } } });
    expect(refused.error!.message.startsWith('DUPLICATE_UTTERANCE_INDEX: ')).toBe(true);
    expect(h.speech.calls.filter((c) => c.op === 'transcribe')).toHaveLength(2);
  });

  it('check 4: beyond max_concurrent_jobs → NODE_OVERLOADED with the counts; a slot freed is taken again', async () => {
    h = await startJobsHarness({ jobs: { maxConcurrentJobs: 2 } });
    h.speech.script('asr-1', hang);
    const [a, b, c] = [jobAssign(), jobAssign(), jobAssign()];
    await h.assign(a);
    await h.assign(b);
    await h.assign(c);
    expect(h.runtime.runningJobs()).toBe(2);
    expect(h.sentFor(c.job_id)).toEqual([
      expect.objectContaining({
        type: 'job_result',
        success: false,
        error: { code: 'NODE_OVERLOADED', message: 'Node at capacity: 2 of 2 jobs running', details: { running_jobs: 2, max_concurrent_jobs: 2 } },
      }),
    ]);
    expect(h.audio.tasks).toHaveLength(2);
    h.publish({ type: 'link.jobCancelled', message: { type: 'job_cancel', job_id: a.job_id } });
    const d = jobAssign();
    await h.assign(d);
    expect(h.sentFor(d.job_id)[0]).toMatchObject({ type: 'job_ack' });
    expect(h.runtime.list().map((j) => j.jobId)).toEqual([b.job_id, d.job_id]);
  });

  it('duplicate keys are remembered for node_dedupe_retention_ms, then forgotten; memory is bounded by maxDedupeEntries', async () => {
    h = await startJobsHarness({ jobs: { dedupeRetentionMs: 600_000, maxDedupeEntries: 3 } });
    const job = jobAssign();
    await h.assign(job);
    await h.advance(599_999);
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[1]!.error!.message).toMatch(/^DUPLICATE_JOB_ID: /);
    // Remembered from its last sighting: 10 minutes on, the id is forgotten and the job runs again.
    await h.advance(599_999);
    await h.assign({ ...job, utterance_index: 999 });
    expect(h.resultsFor(job.job_id)[2]!.error!.message).toMatch(/^DUPLICATE_JOB_ID: /);
    await h.advance(600_001);
    await h.assign({ ...job, utterance_index: 1_000 });
    expect(h.resultsFor(job.job_id)[3]).toMatchObject({ success: true });

    const old = jobAssign();
    await h.assign(old);
    for (let i = 0; i < 3; i++) await h.assign(jobAssign());
    // Three newer ids pushed the oldest out of a book of three.
    await h.assign({ ...old, utterance_index: 2_000 });
    expect(h.resultsFor(old.job_id)).toEqual([expect.objectContaining({ success: true }), expect.objectContaining({ success: true })]);
  });

  it('while the node stops, a new job is refused NODE_OVERLOADED (the scheduler reassigns it) instead of being lost', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', hang);
    const running = jobAssign();
    await h.assign(running);
    const stopping = h.system.stop();
    await h.advance(0);
    const late = jobAssign();
    await h.assign(late);
    expect(h.resultsFor(late.job_id)).toEqual([expect.objectContaining({ success: false, error: expect.objectContaining({ code: 'NODE_OVERLOADED', details: expect.objectContaining({ reason: 'shutting_down' }) }) })]);
    // The running job keeps its chance to finish within its shutdown time: here its ASR timeout ends it.
    await h.advance(20_000);
    expect(h.resultsFor(running.job_id)).toHaveLength(1);
    await stopping;
  });
});
