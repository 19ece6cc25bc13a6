/**
 * PROTOCOL.md §8.4: a failed NMT call — refused, 5xx, `ok:false`, the client's own timeout, or no
 * answer within the NMT call timeout (10 s on the fake clock) — fails over to the next running NMT
 * service for the pair, and the job succeeds there. The timed-out call's signal is aborted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { clientTimeout, hang, httpError, notOk, refuse } from '../../fakes/speech.fake.js';
import type { SpeechReply } from '../../fakes/speech.fake.js';
import { jobAssign, STANDARD_SERVICES, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

const TWO_NMT = [
  ...STANDARD_SERVICES,
  { id: 'nmt-2', type: 'nmt', state: 'running' as const, languages: { nmt: [{ src: 'en', tgt: 'es' }] }, baseUrl: 'http://127.0.0.1:6004' },
];

describe('job: failover to the second NMT service', () => {
  const failures: [string, SpeechReply, string][] = [
    ['connection refused', refuse, 'SERVICE_UNREACHABLE'],
    ['HTTP 503', httpError(503), 'SERVICE_HTTP_ERROR'],
    ['HTTP 400', httpError(400), 'SERVICE_HTTP_ERROR'],
    ['ok:false', notOk, 'SERVICE_REPLY_NOT_OK'],
    ["the HTTP client's timeout", clientTimeout, 'SERVICE_TIMEOUT'],
  ];
  for (const [what, reply, code] of failures) {
    it(`${what} on the first → the job completes on the second`, async () => {
      h = await startJobsHarness({ services: TWO_NMT });
      h.speech.script('nmt-1', reply).script('nmt-2', () => ({ ok: true, text: 'hola desde el segundo' }));
      const job = jobAssign();
      await h.assign(job);
      expect(h.speech.calls.filter((c) => c.op === 'translate').map((c) => [c.serviceId, c.outcome])).toEqual([
        ['nmt-1', code],
        ['nmt-2', 'ok'],
      ]);
      expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: true, text_translated: 'hola desde el segundo' })]);
    });
  }

  it('no answer within the NMT call timeout: the call is aborted at 10 s and the second one answers', async () => {
    h = await startJobsHarness({ services: TWO_NMT });
    h.speech.script('nmt-1', hang);
    const job = jobAssign();
    await h.assign(job);
    const first = h.speech.callsTo('nmt-1')[0]!;
    await h.advance(9_999);
    expect(first.signal.aborted).toBe(false);
    expect(h.speech.callsTo('nmt-2')).toEqual([]);
    await h.advance(1);
    expect(first.signal.aborted).toBe(true);
    expect(first.outcome).toBe('ABORTED');
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: true })]);
    expect(h.resultsFor(job.job_id)[0]!.extra?.service_timings).toMatchObject({ asr_ms: 0, nmt_ms: 10_000, tts_ms: 0, total_ms: 10_000 });
  });

  it('the call timeouts are configurable', async () => {
    h = await startJobsHarness({ services: TWO_NMT, jobs: { nmtTimeoutMs: 2_500 } });
    h.speech.script('nmt-1', hang);
    const job = jobAssign();
    await h.assign(job);
    await h.advance(2_500);
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: true })]);
  });

  it('picks the running service with the fewest calls in flight, over all jobs', async () => {
    h = await startJobsHarness({ services: TWO_NMT });
    h.speech.script('nmt-1', hang).script('nmt-2', hang);
    const first = jobAssign();
    const second = jobAssign();
    await h.assign(first);
    await h.assign(second);
    expect(h.speech.calls.filter((c) => c.op === 'translate').map((c) => c.serviceId)).toEqual(['nmt-1', 'nmt-2']);
  });

  it('a service that answers a pair it was not declared for is never asked', async () => {
    h = await startJobsHarness({
      services: [...STANDARD_SERVICES, { id: 'nmt-fr', type: 'nmt', state: 'running', languages: { nmt: [{ src: 'en', tgt: 'fr' }] } }],
    });
    h.speech.script('nmt-1', refuse);
    const job = jobAssign();
    await h.assign(job);
    expect(h.speech.callsTo('nmt-fr')).toEqual([]);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, error: { code: 'MODEL_NOT_AVAILABLE' } });
  });
});
