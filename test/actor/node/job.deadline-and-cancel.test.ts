/**
 * PROTOCOL.md §9.1: a job has a deadline of `job_timeout_ms` − 5 s from its assign; past it, no call
 * or failover begins and the job fails with PROCESSING_ERROR `details.reason:"deadline"`.
 * §2.11: `job_cancel` for the attempt (or without one) aborts the call or worker task in flight and
 * no job_result is sent; a cancel for another attempt changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hang } from '../../fakes/speech.fake.js';
import { jobAssign, STANDARD_SERVICES, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

describe('job: deadline', () => {
  it('fails at job_timeout_ms − 5 s, aborting the call in flight, with no failover after it', async () => {
    const manyAsr = [0, 1, 2, 3].map((i) => ({ id: `asr-${i}`, type: 'asr', state: 'running' as const, languages: { asr: ['en'] }, baseUrl: `http://127.0.0.1:70${i}0` }));
    h = await startJobsHarness({ services: [...manyAsr, ...STANDARD_SERVICES.filter((s) => s.type !== 'asr')], jobs: { jobTimeoutMs: 50_000 } });
    for (const s of manyAsr) h.speech.script(s.id, hang);
    const job = jobAssign();
    await h.assign(job);
    await h.advance(44_999);
    // Two 20 s ASR timeouts so far: the third service is being called.
    expect(h.speech.calls.map((c) => c.serviceId)).toEqual(['asr-0', 'asr-1', 'asr-2']);
    expect(h.resultsFor(job.job_id)).toEqual([]);
    await h.advance(1);
    expect(h.speech.calls[2]!.signal.aborted).toBe(true);
    expect(h.resultsFor(job.job_id)).toEqual([
      expect.objectContaining({ success: false, error: expect.objectContaining({ code: 'PROCESSING_ERROR', details: { reason: 'deadline' } }), processing_time_ms: 45_000 }),
    ]);
    expect(h.resultsFor(job.job_id)[0]!.extra?.service_timings).toEqual({ asr_ms: 45_000, nmt_ms: 0, tts_ms: 0, total_ms: 45_000 });
    await h.advance(60_000);
    expect(h.speech.calls).toHaveLength(3);
    expect(h.resultsFor(job.job_id)).toHaveLength(1);
  });

  it('bounds an on-demand start too', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES.filter((s) => s.type !== 'tts'), { id: 'tts-cold', type: 'tts', state: 'stopped', languages: { tts: ['es'] } }] });
    h.control.startDelayMs = 120_000;
    const job = jobAssign();
    await h.assign(job);
    await h.advance(55_000);
    expect(h.control.calls[0]!.signal.aborted).toBe(true);
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: false, text_translated: 'dónde está la estación de tren', error: expect.objectContaining({ details: { reason: 'deadline' } }) })]);
  });
});

describe('job: cancel', () => {
  it('aborts the HTTP call in flight and sends no job_result', async () => {
    h = await startJobsHarness();
    h.speech.script('nmt-1', hang);
    const job = jobAssign();
    await h.assign(job);
    const call = h.speech.callsTo('nmt-1')[0]!;
    h.publish({ type: 'link.jobCancelled', message: { type: 'job_cancel', job_id: job.job_id, reason: 'job_timeout', attempt_id: 1 } });
    await h.advance(0);
    expect(call.signal.aborted).toBe(true);
    expect(h.runtime.runningJobs()).toBe(0);
    await h.advance(120_000);
    expect(h.sentFor(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
    expect(h.speech.calls.filter((c) => c.op === 'synthesize')).toEqual([]);
    expect(h.of('job.finished')).toEqual([expect.objectContaining({ jobId: job.job_id, success: false, code: 'CANCELLED' })]);
  });

  it('aborts the audio worker task in flight; a cancel without attempt_id stops whichever attempt runs', async () => {
    h = await startJobsHarness();
    h.audio.prepareBehaviour = 'hang';
    const job = jobAssign({ attempt_id: 2 });
    await h.assign(job);
    h.publish({ type: 'link.jobCancelled', message: { type: 'job_cancel', job_id: job.job_id } });
    await h.advance(0);
    expect(h.audio.tasks[0]!.signal.aborted).toBe(true);
    expect(h.resultsFor(job.job_id)).toEqual([]);
    expect(h.speech.calls).toEqual([]);
  });

  it('a cancel for another attempt, or another job, changes nothing', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', hang);
    const job = jobAssign({ attempt_id: 2 });
    await h.assign(job);
    h.publish({ type: 'link.jobCancelled', message: { type: 'job_cancel', job_id: job.job_id, attempt_id: 1 } });
    h.publish({ type: 'link.jobCancelled', message: { type: 'job_cancel', job_id: 'job-other' } });
    await h.advance(0);
    expect(h.speech.calls[0]!.signal.aborted).toBe(false);
    expect(h.runtime.runningJobs()).toBe(1);
    await h.advance(20_000);
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: false, error: expect.objectContaining({ code: 'PROCESSING_ERROR' }) })]);
  });

  it('the link dropping cancels running jobs (the scheduler reassigns them, §5.4), and later assigns are ignored until registered again', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', hang);
    const job = jobAssign();
    await h.assign(job);
    h.publish({ type: 'link.disconnected', cause: 'closed', code: 1006 });
    await h.advance(0);
    expect(h.speech.calls[0]!.signal.aborted).toBe(true);
    expect(h.resultsFor(job.job_id)).toEqual([]);
    const late = jobAssign();
    await h.assign(late);
    expect(h.sentFor(late.job_id)).toEqual([]);
    h.publish({ type: 'link.registered', nodeId: 'node-AGAIN001' });
    h.speech.script('asr-1', () => ({ text: 'again' }));
    const next = jobAssign();
    await h.assign(next);
    expect(h.resultsFor(next.job_id)).toEqual([expect.objectContaining({ success: true, node_id: 'node-AGAIN001' })]);
  });
});
