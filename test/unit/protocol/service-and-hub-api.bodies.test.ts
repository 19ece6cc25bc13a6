/**
 * HTTP bodies of the local speech services (PROTOCOL.md §9) and of the model hub (§10).
 */
import { describe, expect, it } from 'vitest';
import {
  AsrUtteranceResponseSchema,
  ChecksumFileSchema,
  ExtractResponseSchema,
  HubVersionParamSchema,
  ModelListResponseSchema,
  RepairResponseSchema,
  ServiceChecksumSchema,
  ServiceDetailSchema,
  ServiceErrorBodySchema,
  ServiceHealthResponseSchema,
  ServiceSignatureSchema,
  TranslateResponseSchema,
  isReadyHealthBody,
  isSemVerOrLatest,
  isTranslateSuccess,
  normalizeServiceLanguages,
  parseWith,
} from '../../../src/protocol/index.js';

const SHA = 'a'.repeat(64);

describe('speech service bodies (§9)', () => {
  it.each([
    ['{"status":"ok","device":"cuda","model_loaded":true}', true],
    ['{"status":"Healthy"}', true],
    ['{"status":"READY"}', true],
    ['{"model_loaded":true}', true],
    ['OK', true],
    ['OK\n', true],
    ['{"status":"not_ready"}', false],
    ['{"status":"degraded"}', false],
    ['{"status":1}', false],
    ['[]', false],
    ['ready', false],
    ['', false],
  ])('health body %j ready: %s', (body, ready) => {
    expect(isReadyHealthBody(body)).toBe(ready);
  });

  it('reads run-time languages from a health answer and keeps its other members', () => {
    const result = parseWith(ServiceHealthResponseSchema, { status: 'ok', warmed: true, languages: { nmt_any_to_any: ['en', 'es'] } });
    if (!result.ok) throw result.error;
    expect(result.value).toMatchObject({ status: 'ok', warmed: true });
    expect(normalizeServiceLanguages('nmt', result.value.languages).nmtPairs).toHaveLength(2);
  });

  it('treats an NMT answer as success only with ok true and a string text', () => {
    const parse = (body: unknown) => {
      const r = parseWith(TranslateResponseSchema, body);
      if (!r.ok) throw r.error;
      return r.value;
    };
    expect(isTranslateSuccess(parse({ ok: true, text: 'hola' }))).toBe(true);
    expect(isTranslateSuccess(parse({ ok: true }))).toBe(false);
    expect(isTranslateSuccess(parse({ ok: false, error: 'Model not loaded' }))).toBe(false);
  });

  it('parses an ASR answer with segments and words, and rejects one without text', () => {
    const body = { text: 'hi', language: 'en', segments: [{ text: 'hi', start: 0, end: 0.5, words: [{ word: 'hi', start: 0, end: 0.5, probability: 0.9 }] }], vad_segments: [[0, 8000]], diagnostics: { any: 1 } };
    const result = parseWith(AsrUtteranceResponseSchema, body);
    if (!result.ok) throw result.error;
    expect(result.value.diagnostics).toEqual({ any: 1 });
    expect(parseWith(AsrUtteranceResponseSchema, { language: 'en' }).ok).toBe(false);
  });

  it('parses the other service answers', () => {
    expect(parseWith(ExtractResponseSchema, { embedding: null, dimension: 192, input_samples: 100, sample_rate: 16000, too_short: true, use_default: true }).ok).toBe(true);
    expect(parseWith(RepairResponseSchema, { decision: 'PASS', text_out: 'x', confidence: 0.9, diff: [] }).ok).toBe(true);
    expect(parseWith(RepairResponseSchema, { decision: 'MAYBE', text_out: 'x', confidence: 0.9 }).ok).toBe(false);
    expect(parseWith(ServiceErrorBodySchema, { code: 'SEM_REPAIR_UNSUPPORTED_LANG' }).ok).toBe(true);
  });
});

describe('hub bodies (§10)', () => {
  it('parses a service detail and a checksum, and rejects an upper-case sha256', () => {
    const detail = { service_id: 'tts-es', service_name: 'eSpeak', latest_version: '1.10.0', versions: [{ version: '1.10.0', size_bytes: 10, sha256: SHA, models: [{ model_id: 'm' }], stable: true, download_url: '/storage/services/tts-es/1.10.0.zip' }] };
    expect(parseWith(ServiceDetailSchema, detail).ok).toBe(true);
    expect(parseWith(ServiceChecksumSchema, { service_id: 'tts-es', version: '1.10.0', sha256: SHA, size_bytes: 10 }).ok).toBe(true);
    expect(parseWith(ServiceChecksumSchema, { service_id: 'tts-es', version: '1.10.0', sha256: SHA.toUpperCase(), size_bytes: 10 }).ok).toBe(false);
  });

  it('accepts only ed25519 signatures', () => {
    const signature = { service_id: 'tts-es', version: '1.0.0', sha256: SHA, alg: 'ed25519', key_id: 'k1', signature: 'AA==' };
    expect(parseWith(ServiceSignatureSchema, signature).ok).toBe(true);
    expect(parseWith(ServiceSignatureSchema, { ...signature, alg: 'rsa' }).ok).toBe(false);
  });

  it('parses the legacy model list and checksum files', () => {
    const model = { id: 'whisper', name: 'Whisper', task: 'asr', languages: ['en'], default_version: '1.0.0', versions: [{ version: '1.0.0', size_bytes: 5, files: [{ path: 'model.bin', size_bytes: 5 }], checksum_sha256: '{}', updated_at: '2026-01-01T00:00:00Z' }] };
    expect(parseWith(ModelListResponseSchema, [model]).ok).toBe(true);
    expect(parseWith(ChecksumFileSchema, { 'models/a.bin': SHA }).ok).toBe(true);
    expect(parseWith(ChecksumFileSchema, { 'models/a.bin': 'nope' }).ok).toBe(false);
  });

  it('validates version path parameters as SemVer 2.0.0 or latest', () => {
    for (const ok of ['1.10.0', '2.0.0-rc.1', '1.0.0+build.5', 'latest']) expect(isSemVerOrLatest(ok)).toBe(true);
    for (const bad of ['1.10', 'v1.0.0', '01.0.0', '1.0.0-', 'LATEST', '../1.0.0']) expect(isSemVerOrLatest(bad)).toBe(false);
    expect(HubVersionParamSchema.safeParse('latest').success).toBe(true);
  });
});
