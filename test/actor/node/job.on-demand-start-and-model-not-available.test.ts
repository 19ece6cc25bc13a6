/**
 * PROTOCOL.md §8.2 check 5, §8.3, §8.4: with no running TTS for the language, an installed, enabled,
 * stopped one is started on demand (ServiceControlPort.ensureRunning) and called; with none that can
 * be started, the job is answered MODEL_NOT_AVAILABLE with `{service_id, reason, service_version?}`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { jobAssign, STANDARD_SERVICES, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';
import type { FakeServiceInput } from '../../fakes/service-registry.fake.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

const withoutTts = STANDARD_SERVICES.filter((s) => s.type !== 'tts');
const stoppedTts = (extra: Partial<FakeServiceInput> = {}): FakeServiceInput => ({ id: 'tts-cold', type: 'tts', state: 'stopped', languages: { tts: ['es'] }, version: '3.1.0', ...extra });

describe('job: on-demand start', () => {
  it('no running TTS: the stopped one is started, then called; its start time counts in tts_ms', async () => {
    h = await startJobsHarness({ services: [...withoutTts, stoppedTts()] });
    h.control.startDelayMs = 2_000;
    h.control.addresses.set('tts-cold', 'http://127.0.0.1:6100');
    const job = jobAssign();
    await h.assign(job);
    expect(h.sentFor(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
    expect(h.control.ensureRunningCalls()).toEqual(['tts-cold']);
    expect(h.speech.callsTo('tts-cold')).toEqual([]);
    await h.advance(2_000);
    expect(h.speech.callsTo('tts-cold')).toEqual([expect.objectContaining({ service: expect.objectContaining({ baseUrl: 'http://127.0.0.1:6100' }), request: expect.objectContaining({ voice: 'es' }) })]);
    const [result] = h.resultsFor(job.job_id);
    expect(result).toMatchObject({ success: true, extra: { service_timings: { tts_ms: 2_000 } } });
  });

  it('every running TTS failed: a stopped one is started as the last resort', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES, stoppedTts()] });
    h.speech.script('tts-1', () => {
      throw Object.assign(new Error('refused'), { code: 'SERVICE_UNREACHABLE' });
    });
    const job = jobAssign();
    await h.assign(job);
    expect(h.speech.calls.filter((c) => c.op === 'synthesize').map((c) => c.serviceId)).toEqual(['tts-1', 'tts-cold']);
    expect(h.control.ensureRunningCalls()).toEqual(['tts-cold']);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true });
  });

  it('a start that fails goes on to the next startable service, and the job fails only when none is left', async () => {
    h = await startJobsHarness({ services: [...withoutTts, stoppedTts(), stoppedTts({ id: 'tts-cold-2', version: '1.0.0' })] });
    h.control.failing.add('tts-cold');
    h.control.failing.add('tts-cold-2');
    const job = jobAssign();
    await h.assign(job);
    expect(h.control.ensureRunningCalls()).toEqual(['tts-cold', 'tts-cold-2']);
    // No TTS call was ever made: the stage found nothing to call (§8.4), and the services ended in error.
    expect(h.resultsFor(job.job_id)).toEqual([
      expect.objectContaining({
        success: false,
        text_asr: 'where is the train station',
        error: { code: 'MODEL_NOT_AVAILABLE', message: 'Service tts-cold@3.1.0 is not available: error', details: { service_id: 'tts-cold', reason: 'error', service_version: '3.1.0' } },
      }),
    ]);
  });

  it('a start that outlasts the service startup timeout is given up (bounded on the fake clock)', async () => {
    h = await startJobsHarness({ services: [...withoutTts, stoppedTts({ startupTimeoutMs: 5_000 })] });
    h.control.startDelayMs = 60_000;
    const job = jobAssign();
    await h.assign(job);
    await h.advance(5_000);
    expect(h.control.calls[0]!.signal.aborted).toBe(true);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, error: { code: 'MODEL_NOT_AVAILABLE' } });
  });
});

describe('job: MODEL_NOT_AVAILABLE at acceptance (§8.2 check 5), before any job_ack', () => {
  it('no TTS installed → service_id is the type, reason not_installed', async () => {
    h = await startJobsHarness({ services: withoutTts });
    const job = jobAssign();
    await h.assign(job);
    expect(h.sentFor(job.job_id)).toEqual([
      expect.objectContaining({
        type: 'job_result',
        success: false,
        tts_format: 'opus',
        tts_audio: '',
        error: { code: 'MODEL_NOT_AVAILABLE', message: 'Service tts is not available: not_installed', details: { service_id: 'tts', reason: 'not_installed' } },
        extra: { service_timings: { asr_ms: 0, nmt_ms: 0, tts_ms: 0, total_ms: 0 } },
        processing_time_ms: 0,
      }),
    ]);
    expect(h.control.ensureRunningCalls()).toEqual([]);
    expect(h.runtime.runningJobs()).toBe(0);
    expect(h.of('job.assigned')).toEqual([]);
  });

  it('a TTS for another language only → not_installed as well; a disabled one → not_running; a crashed one → error', async () => {
    const cases: [FakeServiceInput, Record<string, unknown>][] = [
      [{ id: 'tts-fr', type: 'tts', state: 'running', languages: { tts: ['fr'] } }, { service_id: 'tts', reason: 'not_installed' }],
      [stoppedTts({ enabled: false }), { service_id: 'tts-cold', reason: 'not_running', service_version: '3.1.0' }],
      [stoppedTts({ state: 'failed' }), { service_id: 'tts-cold', reason: 'error', service_version: '3.1.0' }],
    ];
    for (const [service, details] of cases) {
      h = await startJobsHarness({ services: [...withoutTts, service] });
      const job = jobAssign();
      await h.assign(job);
      expect(h.resultsFor(job.job_id)[0]!.error).toEqual(expect.objectContaining({ code: 'MODEL_NOT_AVAILABLE', details }));
      await h.stop();
    }
  });

  it('use_tts false needs no TTS; src = tgt needs no NMT', async () => {
    h = await startJobsHarness({ services: STANDARD_SERVICES.filter((s) => s.type === 'asr') });
    const job = jobAssign({ pipeline: { use_asr: true, use_nmt: true, use_tts: false }, tgt_lang: 'en-US' });
    await h.assign(job);
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: true, text_asr: 'where is the train station', text_translated: 'where is the train station', tts_audio: '', tts_format: 'opus' })]);
    expect(h.speech.calls.map((c) => c.op)).toEqual(['transcribe']);
  });

  it('a service that stopped between acceptance and its stage: MODEL_NOT_AVAILABLE with its id, carrying the transcript', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', () => {
      h.registry.setState('nmt-1', 'failed', 'exited with code 1');
      return { text: 'hello' };
    });
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, text_asr: 'hello', error: { code: 'MODEL_NOT_AVAILABLE', details: { service_id: 'nmt-1', reason: 'error', service_version: '1.0.0' } } });
    expect(h.speech.forgotten).toContain('nmt-1');
  });

  it('a registry that throws while a stage chooses its service: PROCESSING_ERROR "service choice failed", carrying the transcript; the next job is served', async () => {
    h = await startJobsHarness();
    const list = h.registry.list.bind(h.registry);
    h.speech.script('asr-1', () => {
      h.registry.list = () => {
        throw new Error('registry snapshot unreadable');
      };
      return { text: 'hello' };
    });
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, text_asr: 'hello', error: { code: 'PROCESSING_ERROR', message: 'service choice failed', details: { stage: 'nmt', code: 'INTERNAL_ERROR' } } });
    h.registry.list = list;
    h.speech.script('asr-1', () => ({ text: 'hello again' }));
    const next = jobAssign();
    await h.assign(next);
    expect(h.resultsFor(next.job_id)[0]).toMatchObject({ success: true, text_asr: 'hello again' });
  });
});
