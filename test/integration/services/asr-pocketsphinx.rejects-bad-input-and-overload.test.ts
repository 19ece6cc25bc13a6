/**
 * Bad requests to the PocketSphinx service get a 4xx JSON `{detail, code}` and the service keeps
 * serving; work beyond its in-flight and queue limits gets 503 with `Retry-After` (PROTOCOL.md
 * §9.1); work sent before the warm-up finished gets 503 `NOT_READY`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService, waitReady } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';
import { wordErrorRate } from '../../support/word-error-rate.js';

const fixtures = loadSpeechFixtures();
// The shortest fixture: its decode (about half a second) still outlasts the arrival of a burst.
const shortest = [...fixtures].sort((a, b) => a.wav.length - b.wav.length)[0];
if (!shortest) throw new Error('no fixtures');
const valid = { job_id: 'job-1', src_lang: 'en', audio: shortest.wav.toString('base64'), audio_format: 'wav', sample_rate: 16_000 };

let built: BuiltService;
let service: RunningService;
let beforeReady: { status: number; body: unknown } | undefined;

beforeAll(async () => {
  built = await buildService('asr-pocketsphinx');
  service = await startService(built.bundle, {
    waitReady: false,
    env: { ASR_WORKERS: '1', SERVICE_MAX_IN_FLIGHT: '1', SERVICE_MAX_QUEUE: '0', SERVICE_MAX_BODY_BYTES: '1000000' },
  });
  // The model takes about a second to load: the first request that reaches the listening server
  // arrives before the warm-up decode is done.
  const deadline = Date.now() + 30_000;
  while (!beforeReady && Date.now() < deadline) {
    beforeReady = await postJson(service.baseUrl, '/utterance', valid).catch(() => undefined);
    if (!beforeReady) await new Promise((r) => setTimeout(r, 25));
  }
  await waitReady(service);
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

const corruptOpus = Buffer.from([4, 0, 0xff, 0xff, 0xff, 0xff]).toString('base64');

describe('asr-pocketsphinx refuses bad input and keeps serving', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('answered 503 NOT_READY with Retry-After while warming up', () => {
    expect(beforeReady).toMatchObject({ status: 503, body: { code: 'NOT_READY' } });
  });

  it.each([
    ['body is not JSON', '{"job_id": ', 400, 'INVALID_JSON'],
    ['audio is missing', { job_id: 'j', src_lang: 'en', audio_format: 'wav' }, 400, 'INVALID_REQUEST'],
    ['audio is not base64', { ...valid, audio: '@@not base64!!' }, 400, 'INVALID_BASE64'],
    ['audio is empty', { ...valid, audio: '' }, 400, 'EMPTY_AUDIO'],
    ['WAV bytes are corrupt', { ...valid, audio: Buffer.from('RIFF....WAVEjunkjunk').toString('base64') }, 400, 'INVALID_AUDIO'],
    ['Opus packet is corrupt', { ...valid, audio_format: 'opus', audio: corruptOpus }, 400, 'INVALID_AUDIO'],
    ['format is mp3', { ...valid, audio_format: 'mp3' }, 400, 'UNSUPPORTED_AUDIO_FORMAT'],
    ['pcm16 has no sample_rate', { ...valid, audio_format: 'pcm16', sample_rate: undefined }, 400, 'INVALID_REQUEST'],
    ['language is zh', { ...valid, src_lang: 'zh' }, 400, 'UNSUPPORTED_LANGUAGE'],
    ['body is over the limit', { ...valid, audio: 'A'.repeat(1_200_000) }, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('%s → %i %s', async (_name, body, status, code) => {
    const res = await postJson(service.baseUrl, '/utterance', body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, detail: expect.any(String) });
  });

  it('answers 404 NOT_FOUND and 405 METHOD_NOT_ALLOWED for unknown routes and methods', async () => {
    expect(await postJson(service.baseUrl, '/nowhere', {})).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const res = await fetch(`${service.baseUrl}/utterance`);
    expect(res.status).toBe(405);
    expect(await res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('still transcribes after all of that', async () => {
    const res = await postJson<{ text: string }>(service.baseUrl, '/utterance', valid);
    expect(res.status).toBe(200);
    expect(wordErrorRate([{ reference: shortest.text, hypothesis: res.body.text }]).wer).toBeLessThanOrEqual(0.2);
  });

  it('answers 503 SERVICE_BUSY with Retry-After beyond one in flight and no queue', async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => postJson(service.baseUrl, '/utterance', { ...valid, job_id: `burst-${i}` })));
    const busy = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const answer of busy) {
      expect(answer.body).toMatchObject({ code: 'SERVICE_BUSY' });
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect((await postJson(service.baseUrl, '/utterance', valid)).status).toBe(200);
  });
});
