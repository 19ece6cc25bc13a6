/**
 * PROTOCOL.md §8.1, §12 item 35: silent audio (no speech from the VAD) or an empty transcript →
 * `success:true`, `text_asr:""`, `extra.reason:"ASR_EMPTY"`, no translation and no audio.
 * §7.4: invalid base64 in `job_assign.audio` → PROCESSING_ERROR; so is a format the node cannot
 * decode. Pipeline flags and src = tgt decide which stages run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { answer } from '../../fakes/speech.fake.js';
import { jobAssign, STANDARD_SERVICES, startJobsHarness } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

const EMPTY_RESULT = {
  success: true,
  text_asr: '',
  text_translated: '',
  tts_audio: '',
  tts_format: 'opus',
  extra: { reason: 'ASR_EMPTY', service_timings: { asr_ms: 0, nmt_ms: 0, tts_ms: 0, total_ms: 0 } },
};

describe('job: nothing to transcribe (§8.1, §12 item 35)', () => {
  it('silent audio → ASR_EMPTY without calling any service', async () => {
    h = await startJobsHarness();
    h.audio.speech = false;
    const job = jobAssign();
    await h.assign(job);
    expect(h.sentFor(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started', 'job_result']);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject(EMPTY_RESULT);
    expect(h.resultsFor(job.job_id)[0]!.error).toBeUndefined();
    expect(h.speech.calls).toEqual([]);
    expect(h.of('job.finished')).toEqual([expect.objectContaining({ success: true })]);
  });

  it('a blank transcript → ASR_EMPTY, no NMT and no TTS call', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', answer({ text: '   ', language: 'en' }));
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject(EMPTY_RESULT);
    expect(h.speech.calls.map((c) => c.op)).toEqual(['transcribe']);
  });
});

describe('job: input the node cannot read (§7.4)', () => {
  it('invalid base64 → PROCESSING_ERROR after the ack, without touching the audio workers', async () => {
    h = await startJobsHarness();
    const job = jobAssign({ audio: 'not*base64!' });
    await h.assign(job);
    expect(h.sentFor(job.job_id).map((m) => m.type)).toEqual(['job_ack', 'job_started', 'job_result']);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, tts_format: 'opus', error: { code: 'PROCESSING_ERROR', details: { reason: 'invalid_base64' } } });
    expect(h.audio.tasks).toEqual([]);
  });

  it('an audio_format that is not opus, pcm16 or wav → PROCESSING_ERROR', async () => {
    h = await startJobsHarness();
    const job = jobAssign({ audio_format: 'flac' });
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, error: { code: 'PROCESSING_ERROR', details: { reason: 'unsupported_audio_format' } } });
  });

  it('audio the workers refuse → PROCESSING_ERROR with their code', async () => {
    h = await startJobsHarness();
    h.audio.prepareBehaviour = { failWith: 'AUDIO_DECODE_FAILED' };
    const job = jobAssign();
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: false, error: { code: 'PROCESSING_ERROR', details: { reason: 'audio', code: 'AUDIO_DECODE_FAILED' } } });
  });
});

describe('job: pipeline flags and languages', () => {
  it('use_nmt false: the transcript is spoken in the target language, no translation sent', async () => {
    h = await startJobsHarness();
    const job = jobAssign({ pipeline: { use_asr: true, use_nmt: false, use_tts: true } });
    await h.assign(job);
    expect(h.speech.calls.map((c) => c.op)).toEqual(['transcribe', 'synthesize']);
    expect(h.speech.calls[1]!.request).toMatchObject({ text: 'where is the train station', language: 'es' });
    const [result] = h.resultsFor(job.job_id);
    expect(result).toMatchObject({ success: true, text_asr: 'where is the train station' });
    expect(result!.text_translated).toBeUndefined();
  });

  it('use_asr false: nothing to process, an empty success without calls', async () => {
    h = await startJobsHarness({ services: [] });
    const job = jobAssign({ pipeline: { use_asr: false, use_nmt: false, use_tts: false } });
    await h.assign(job);
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true, tts_audio: '' });
    expect(h.audio.tasks).toEqual([]);
  });

  it('two-way: src auto takes the detected language, and the target becomes the other of the pair', async () => {
    h = await startJobsHarness({
      services: [
        { id: 'asr-1', type: 'asr', state: 'running', languages: { asr: ['en', 'es'] } },
        { id: 'nmt-1', type: 'nmt', state: 'running', languages: { nmt_any_to_any: ['en', 'es'] } },
        { id: 'tts-1', type: 'tts', state: 'running', languages: { tts: ['en', 'es'] } },
      ],
    });
    h.speech.script('asr-1', answer({ text: 'hola amigo', language: 'es' }));
    const job = jobAssign({ src_lang: 'auto', tgt_lang: 'es', mode: 'two_way_auto', lang_a: 'en', lang_b: 'es' });
    await h.assign(job);
    expect(h.speech.calls[0]!.request).toMatchObject({ src_lang: 'auto' });
    expect(h.speech.calls[1]!.request).toMatchObject({ src_lang: 'es', tgt_lang: 'en', text: 'hola amigo' });
    // §9.4 built-in default voice for English.
    expect(h.speech.calls[2]!.request).toMatchObject({ voice: 'en_US-lessac-medium', language: 'en' });
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true });
  });

  it('a TTS service on /synthesize gets the language and its float samples are encoded', async () => {
    h = await startJobsHarness({ services: [...STANDARD_SERVICES.filter((s) => s.type !== 'tts'), { id: 'tts-clone', type: 'tts', state: 'running', languages: { tts: ['es'] }, ttsEndpoint: '/synthesize' }] });
    const samples = new Float32Array([0, 0.5, -0.5]);
    h.speech.script('tts-clone', answer({ kind: 'pcm', samples, sampleRate: 24_000 }));
    const job = jobAssign();
    await h.assign(job);
    expect(h.speech.calls[2]!.service).toMatchObject({ id: 'tts-clone', ttsEndpoint: '/synthesize' });
    expect(h.audio.tasks[1]!.input).toMatchObject({ audio: { kind: 'pcm', samples, sampleRate: 24_000 } });
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true });
  });
});
