/**
 * PROTOCOL.md §8.4: a stage whose every call failed, after failover. ASR → PROCESSING_ERROR
 * [compat]; NMT → MODEL_NOT_AVAILABLE `{service_id:"nmt", reason:"failed", stage:"nmt"}` carrying
 * `text_asr`; TTS → the same with `stage:"tts"` and `text_translated` too. Speech a TTS service sent
 * that cannot be encoded is that service's failed call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answer, httpError, refuse } from '../../fakes/speech.fake.js';
import { DEFAULT_TRANSCRIPT, DEFAULT_TRANSLATION } from '../../fakes/speech.fake.js';
import { jobAssign, STANDARD_SERVICES, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

const second = (type: 'asr' | 'nmt' | 'tts') => {
  const first = STANDARD_SERVICES.find((s) => s.type === type)!;
  return { ...first, id: `${type}-2`, baseUrl: 'http://127.0.0.1:6010' };
};

describe('job: a stage whose every call failed', () => {
  it('ASR: both services fail → PROCESSING_ERROR, no text, stage timings filled', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES, second('asr')] });
    h.speech.script('asr-1', refuse).script('asr-2', httpError(500));
    const job = jobAssign();
    await h.assign(job);
    expect(h.speech.calls.map((c) => `${c.op}:${c.serviceId}`)).toEqual(['transcribe:asr-1', 'transcribe:asr-2']);
    const [result] = h.resultsFor(job.job_id);
    expect(result).toMatchObject({
      success: false,
      tts_audio: '',
      tts_format: 'opus',
      error: { code: 'PROCESSING_ERROR', details: { stage: 'asr', reason: 'failed', last_service_id: 'asr-2', last_error_code: 'SERVICE_HTTP_ERROR' } },
      extra: { service_timings: { asr_ms: 0, nmt_ms: 0, tts_ms: 0, total_ms: 0 } },
    });
    expect(result!.text_asr).toBeUndefined();
    expect(h.of('job.finished')).toEqual([expect.objectContaining({ success: false, code: 'PROCESSING_ERROR' })]);
  });

  it('NMT: both fail → MODEL_NOT_AVAILABLE with the stage, carrying the transcript', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES, second('nmt')] });
    h.speech.script('nmt-1', refuse).script('nmt-2', refuse);
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)).toEqual([
      expect.objectContaining({
        success: false,
        text_asr: DEFAULT_TRANSCRIPT,
        error: {
          code: 'MODEL_NOT_AVAILABLE',
          message: 'Service nmt is not available: failed',
          details: { service_id: 'nmt', reason: 'failed', stage: 'nmt', last_service_id: 'nmt-2', last_error_code: 'SERVICE_UNREACHABLE' },
        },
      }),
    ]);
    expect(h.resultsFor(job.job_id)[0]!.text_translated).toBeUndefined();
    expect(h.speech.calls.filter((c) => c.op === 'synthesize')).toEqual([]);
  });

  it('TTS: the only one fails → MODEL_NOT_AVAILABLE with the stage, carrying transcript and translation', async () => {
    h = await startJobsHarness();
    h.speech.script('tts-1', httpError(404));
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)).toEqual([
      expect.objectContaining({
        success: false,
        text_asr: DEFAULT_TRANSCRIPT,
        text_translated: DEFAULT_TRANSLATION,
        tts_audio: '',
        error: expect.objectContaining({ code: 'MODEL_NOT_AVAILABLE', details: expect.objectContaining({ service_id: 'tts', reason: 'failed', stage: 'tts' }) }),
      }),
    ]);
  });

  it('a malformed WAV from the first TTS fails over to the second; a failing audio pool is a PROCESSING_ERROR', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES, second('tts')] });
    h.audio.encodeBehaviour = { failWith: 'AUDIO_ENCODE_FAILED', times: 1 };
    const job = jobAssign();
    await h.assign(job);
    expect(h.speech.calls.filter((c) => c.op === 'synthesize').map((c) => c.serviceId)).toEqual(['tts-1', 'tts-2']);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true });

    h.audio.encodeBehaviour = { failWith: 'AUDIO_WORKER_FAILED' };
    const other = jobAssign();
    await h.assign(other);
    expect(h.resultsFor(other.job_id)[0]).toMatchObject({ success: false, text_translated: DEFAULT_TRANSLATION, error: { code: 'PROCESSING_ERROR', details: { reason: 'audio', code: 'AUDIO_WORKER_FAILED' } } });
  });

  it('a defect inside a job (an answer that breaks the machine) still sends one PROCESSING_ERROR and frees the slot', async () => {
    h = await startJobsHarness();
    // The real adapter parses answers with the API schema; a fake can send what it never would.
    h.speech.script('asr-1', answer({ language: 'en' }));
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)).toEqual([expect.objectContaining({ success: false, error: expect.objectContaining({ code: 'PROCESSING_ERROR', details: { reason: 'internal' } }) })]);
    expect(h.runtime.runningJobs()).toBe(0);
    expect(h.of('job.finished')).toEqual([expect.objectContaining({ jobId: job.job_id, success: false, code: 'PROCESSING_ERROR' })]);
    expect(h.errors).toEqual([]);
    const next = jobAssign();
    h.speech.script('asr-1', answer({ text: 'fine again' }));
    await h.assign(next);
    expect(h.resultsFor(next.job_id)[0]).toMatchObject({ success: true, text_asr: 'fine again' });
  });
});
