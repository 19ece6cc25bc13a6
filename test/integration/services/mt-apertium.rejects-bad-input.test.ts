/**
 * Bad requests to the Apertium service get a 4xx JSON `{detail, code}` and the service keeps
 * translating; beyond its in-flight and queue limits it answers 503 with `Retry-After`.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';

const valid = { src_lang: 'en', tgt_lang: 'es', text: 'Where is the train station?' };
let built: BuiltService;
let service: RunningService;

beforeAll(async () => {
  built = await buildService('mt-apertium');
  service = await startService(built.bundle, {
    env: { SERVICE_MAX_IN_FLIGHT: '1', SERVICE_MAX_QUEUE: '1', SERVICE_MAX_BODY_BYTES: '100000', MT_MAX_TEXT_CHARS: '2000' },
  });
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

describe('mt-apertium refuses bad input and keeps serving', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it.each([
    ['body is not JSON', 'not json', 400, 'INVALID_JSON'],
    ['body is empty', '', 400, 'INVALID_JSON'],
    ['tgt_lang is missing', { src_lang: 'en', text: 'hello' }, 400, 'INVALID_REQUEST'],
    ['text is a number', { ...valid, text: 42 }, 400, 'INVALID_REQUEST'],
    ['text is empty', { ...valid, text: '' }, 400, 'EMPTY_TEXT'],
    ['text is only spaces', { ...valid, text: '   \n ' }, 400, 'EMPTY_TEXT'],
    ['pair en→zh is not installed', { ...valid, tgt_lang: 'zh' }, 400, 'UNSUPPORTED_LANGUAGE_PAIR'],
    ['pair en→en is not a translation', { ...valid, tgt_lang: 'en' }, 400, 'UNSUPPORTED_LANGUAGE_PAIR'],
    ['text is over MT_MAX_TEXT_CHARS', { ...valid, text: 'word '.repeat(1_000) }, 400, 'TEXT_TOO_LONG'],
    ['body is over the limit', { ...valid, text: 'x'.repeat(150_000) }, 413, 'PAYLOAD_TOO_LARGE'],
  ] as const)('%s → %i %s', async (_name, body, status, code) => {
    const res = await postJson(service.baseUrl, '/v1/translate', body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ code, detail: expect.any(String) });
  });

  it('answers a request the HTTP parser rejects with a JSON 400 INVALID_REQUEST', async () => {
    const { port } = new URL(service.baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      let answer = '';
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GARBAGE / HTTP/1.1\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(raw.startsWith('HTTP/1.1 400')).toBe(true);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('still translates after all of that', async () => {
    const res = await postJson<{ ok: boolean; text: string }>(service.baseUrl, '/v1/translate', valid);
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.text.toLowerCase()).toContain('tren');
  });

  it('answers 503 SERVICE_BUSY with Retry-After beyond one in flight and one queued', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => postJson(service.baseUrl, '/v1/translate', valid)));
    const busy = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const answer of busy) {
      expect(answer.body).toMatchObject({ code: 'SERVICE_BUSY' });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
  });
});
