/**
 * A job that goes well (PROTOCOL.md §2.8, §2.9, §8.1, §9.2–§9.4): job_ack, job_started, then one
 * job_result with the transcript, the translation, the encoded speech and every timing; the calls
 * the services receive follow the service API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { after } from '../../fakes/speech.fake.js';
import { DEFAULT_TRANSCRIPT, DEFAULT_TRANSLATION } from '../../fakes/speech.fake.js';
import { jobAssign, NODE_ID, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

describe('job: the happy path', () => {
  it('acks, starts, and sends one result with texts, Opus audio and stage timings measured on the clock', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', after(h.clock, 400)).script('nmt-1', after(h.clock, 80)).script('tts-1', after(h.clock, 300));
    const job = jobAssign();
    const t0 = h.clock.now();
    await h.assign(job);
    expect(h.sentFor(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started']);
    expect(h.sentFor(job.job_id)[0]).toEqual({ type: 'job_ack', job_id: job.job_id, attempt_id: 1, node_id: NODE_ID, session_id: job.session_id, trace_id: job.trace_id });
    expect(h.runtime.runningJobs()).toBe(1);
    expect(h.of('job.assigned')).toEqual([{ type: 'job.assigned', jobId: job.job_id, attemptId: 1 }]);

    await h.advance(1_000);
    const [result, ...more] = h.resultsFor(job.job_id);
    expect(more).toEqual([]);
    expect(result).toMatchObject({
      type: 'job_result',
      job_id: job.job_id,
      attempt_id: 1,
      node_id: NODE_ID,
      session_id: job.session_id,
      trace_id: job.trace_id,
      utterance_index: job.utterance_index,
      success: true,
      text_asr: DEFAULT_TRANSCRIPT,
      text_translated: DEFAULT_TRANSLATION,
      tts_audio: Buffer.from('opus-speech').toString('base64'),
      tts_format: 'opus',
      extra: { service_timings: { asr_ms: 400, nmt_ms: 80, tts_ms: 300, total_ms: 780 }, language_probability: 0.98 },
      processing_time_ms: 780,
      node_completed_at_ms: t0 + 780,
    });
    expect(result!.error).toBeUndefined();
    expect(h.runtime.runningJobs()).toBe(0);
    expect(h.of('job.finished')).toEqual([{ type: 'job.finished', jobId: job.job_id, attemptId: 1, success: true, totalMs: 780 }]);
    expect(h.errors).toEqual([]);
  });

  it('sends each service what the service API asks for: pcm16 at 16 kHz, the pair, the declared voice', async () => {
    h = await startJobsHarness();
    const job = jobAssign({ context_text: 'at the station' });
    await h.assign(job);
    const [asr, nmt, tts] = h.speech.calls;
    expect(h.audio.tasks[0]!.input).toMatchObject({ format: 'opus', sampleRate: 16_000, paddingMs: 220 });
    expect(asr).toMatchObject({ op: 'transcribe', serviceId: 'asr-1', service: { baseUrl: 'http://127.0.0.1:6001' } });
    expect(asr!.request).toMatchObject({ job_id: job.job_id, src_lang: 'en', audio_format: 'pcm16', sample_rate: 16_000, trace_id: job.trace_id, context_text: 'at the station' });
    // 1.5 s of speech plus the 220 ms padding the VAD step appended, as 16-bit samples in base64.
    expect(Buffer.from((asr!.request as { audio: string }).audio, 'base64').byteLength).toBe(2 * 16 * 1_720);
    expect(nmt).toMatchObject({ op: 'translate', serviceId: 'nmt-1', request: { src_lang: 'en', tgt_lang: 'es', text: DEFAULT_TRANSCRIPT } });
    expect(tts).toMatchObject({ op: 'synthesize', serviceId: 'tts-1', request: { text: DEFAULT_TRANSLATION, voice: 'es-la', language: 'es' } });
    expect(h.audio.tasks[1]).toMatchObject({ op: 'encode', input: { format: 'opus', audio: { kind: 'wav' } } });
  });

  it('pcm16 and wav outputs as the session asks; an unknown tts_format falls back to opus', async () => {
    h = await startJobsHarness();
    for (const [asked, expected] of [['pcm16', 'pcm16'], ['wav', 'wav'], ['mp3', 'opus']] as const) {
      const job = jobAssign({ tts_format: asked });
      await h.assign(job);
      expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true, tts_format: expected, tts_audio: Buffer.from(`${expected}-speech`).toString('base64') });
    }
  });
});
