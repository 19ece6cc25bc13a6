/**
 * Bad requests to the eSpeak NG service get a 4xx JSON `{detail, code}` (an unknown voice is 404
 * `UNKNOWN_VOICE`, PROTOCOL.md §9.4) and the service keeps speaking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';

let built: BuiltService;
let service: RunningService;

beforeAll(async () => {
  built = await buildService('tts-espeak');
  service = await startService(built.bundle, { env: { SERVICE_MAX_BODY_BYTES: '50000', TTS_MAX_TEXT_CHARS: '500' } });
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

describe('tts-espeak refuses bad input and keeps serving', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it.each([
    ['/tts', 'body is not JSON', '{', 400, 'INVALID_JSON'],
    ['/tts', 'voice is missing', { text: 'hello' }, 400, 'INVALID_REQUEST'],
    ['/tts', 'text is empty', { text: ' ', voice: 'en' }, 400, 'EMPTY_TEXT'],
    ['/tts', 'voice is unknown', { text: 'hello', voice: 'qq_QQ-nobody-medium' }, 404, 'UNKNOWN_VOICE'],
    ['/tts', 'voice is not a name at all', { text: 'hello', voice: '../../etc/passwd' }, 404, 'UNKNOWN_VOICE'],
    ['/tts', 'text is over TTS_MAX_TEXT_CHARS', { text: 'word '.repeat(200), voice: 'en' }, 400, 'TEXT_TOO_LONG'],
    ['/tts', 'body is over the limit', { text: 'x'.repeat(60_000), voice: 'en' }, 413, 'PAYLOAD_TOO_LARGE'],
    ['/synthesize', 'text is missing', { language: 'en' }, 400, 'INVALID_REQUEST'],
    ['/synthesize', 'language has no voice', { text: 'hello', language: 'qq' }, 404, 'UNKNOWN_VOICE'],
  ] as const)('%s: %s → %i %s', async (path, _name, body, status, code) => {
    const res = await postJson(service.baseUrl, path, body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, detail: expect.any(String) });
  });

  it('a second instance on the same port exits 1 and says why', async () => {
    const second = await startService(built.bundle, { port: Number(new URL(service.baseUrl).port), waitReady: false });
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.output()).toContain('EADDRINUSE');
  });

  it('still speaks after all of that', async () => {
    const res = await fetch(`${service.baseUrl}/tts`, { method: 'POST', body: JSON.stringify({ text: 'still here', voice: 'en' }) });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  });
});
