/**
 * `service.json` (PROTOCOL.md §9.7) read into a normalized ServiceManifest: aliases, start command,
 * defaults and the per-type reading of `languages`.
 */
import { describe, expect, it } from 'vitest';
import { normalizeServiceLanguages, parseServiceJson, type MessageValidationError, type ParseResult, type ServiceManifest } from '../../../src/protocol/index.js';

const base = { id: 'asr-en', name: 'Whisper ASR', type: 'asr', exec: { command: 'python3', args: ['server.py'] } };

function manifest(doc: Record<string, unknown>): ServiceManifest {
  const result = parseServiceJson(doc);
  if (!result.ok) throw result.error;
  return result.value;
}

function failure(result: ParseResult<ServiceManifest>): MessageValidationError {
  if (result.ok) throw new Error(`expected a validation failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

const paths = (doc: unknown): string[] => failure(parseServiceJson(doc)).issues.map((i) => i.path);

describe('service.json', () => {
  it('applies the defaults', () => {
    expect(manifest(base)).toEqual({
      id: 'asr-en',
      name: 'Whisper ASR',
      version: undefined,
      type: 'asr',
      serviceType: undefined,
      description: undefined,
      device: 'gpu',
      port: undefined,
      exec: { command: 'python3', args: ['server.py'], cwd: undefined },
      env: {},
      healthCheck: { endpoint: '/health', method: 'GET', timeoutMs: 2000, intervalMs: 1000 },
      startupTimeoutMs: 60_000,
      ttsEndpoint: '/tts',
      languages: { asr: [], tts: [], voices: {}, nmtPairs: [], semantic: [] },
      languagesDeclared: false,
      models: [],
      enabled: true,
    });
  });

  it('accepts the aliases service_id and service_name, alone or equal to id and name', () => {
    const { id: _id, name: _name, ...rest } = base;
    expect(manifest({ ...rest, service_id: 'asr-en', service_name: 'Whisper' })).toMatchObject({ id: 'asr-en', name: 'Whisper' });
    expect(manifest({ ...base, service_id: 'asr-en', service_name: 'Whisper ASR' })).toMatchObject({ id: 'asr-en', name: 'Whisper ASR' });
  });

  it('rejects an id and a service_id that differ, and a name and service_name that differ', () => {
    expect(paths({ ...base, service_id: 'asr-zh' })).toEqual(['service_id']);
    expect(paths({ ...base, service_name: 'Other' })).toEqual(['service_name']);
  });

  it('rejects a missing id and a missing name', () => {
    const { id: _id, name: _name, ...rest } = base;
    expect(paths(rest)).toEqual(['id', 'name']);
  });

  it('rejects an id outside ^[a-z0-9][a-z0-9._-]{0,63}$', () => {
    expect(paths({ ...base, id: 'ASR-en' })).toEqual(['id']);
    expect(paths({ ...base, id: '-asr' })).toEqual(['id']);
    expect(paths({ ...base, id: 'a'.repeat(65) })).toEqual(['id']);
    expect(paths({ ...base, id: '../etc' })).toEqual(['id']);
    expect(manifest({ ...base, id: 'a'.repeat(64) }).id).toHaveLength(64);
    expect(manifest({ ...base, id: 'mt_en.es-2' }).id).toBe('mt_en.es-2');
  });

  it('splits startup_command on whitespace when exec is absent, without a shell', () => {
    const { exec: _exec, ...rest } = base;
    expect(manifest({ ...rest, startup_command: '  python3   server.py --port 5008 ' }).exec).toEqual({ command: 'python3', args: ['server.py', '--port', '5008'], cwd: undefined });
    expect(manifest({ ...base, startup_command: 'ignored when exec is present' }).exec.command).toBe('python3');
  });

  it('rejects a service with neither exec nor startup_command, or an empty startup_command', () => {
    const { exec: _exec, ...rest } = base;
    expect(paths(rest)).toEqual(['exec']);
    expect(paths({ ...rest, startup_command: '   ' })).toEqual(['startup_command']);
    expect(paths({ ...base, exec: { command: 'python3' } })).toEqual(['exec.args']);
  });

  it('stringifies env values and reads health_check, ports, device and enabled', () => {
    const m = manifest({
      ...base,
      env: { THREADS: 4, DEBUG: false, NAME: 'x' },
      health_check: { endpoint: '/ready', interval_ms: 250 },
      port: 0,
      device: 'auto',
      enabled: false,
      startup_timeout_ms: 90_000,
      tts_endpoint: '/synthesize',
      models: [{ model_id: 'whisper-small', path: 'models/small' }],
    });
    expect(m.env).toEqual({ THREADS: '4', DEBUG: 'false', NAME: 'x' });
    expect(m.healthCheck).toEqual({ endpoint: '/ready', method: 'GET', timeoutMs: 2000, intervalMs: 250 });
    expect(m.port).toBeUndefined();
    expect(m.device).toBe('auto');
    expect(m.enabled).toBe(false);
    expect(m.startupTimeoutMs).toBe(90_000);
    expect(m.ttsEndpoint).toBe('/synthesize');
    expect(m.models).toEqual([{ modelId: 'whisper-small', modelType: undefined, version: undefined, path: 'models/small' }]);
    expect(manifest({ ...base, port: 5008 }).port).toBe(5008);
  });

  it('rejects an out-of-range port, an unknown device and a non-scalar env value', () => {
    expect(paths({ ...base, port: 70000 })).toEqual(['port']);
    expect(paths({ ...base, device: 'npu' })).toEqual(['device']);
    expect(paths({ ...base, env: { A: { nested: true } } })).toEqual(['env.A']);
  });

  it('keeps a type that is not a ServiceType (run but never reported)', () => {
    expect(manifest({ ...base, type: 'lexicon', languages: ['zh'] })).toMatchObject({ type: 'lexicon', languages: { asr: [], tts: [], nmtPairs: [], semantic: [] } });
  });
});

describe('service.json languages', () => {
  it('counts only the keys of the service own type', () => {
    const languages = { asr: ['en', 'zh-CN'], tts: ['es'], voices: { fr: ['fr-voice'] }, nmt: [{ src: 'en', tgt: 'es' }], semantic: ['zh'] };
    expect(manifest({ ...base, languages }).languages).toEqual({ asr: ['en', 'zh'], tts: [], voices: {}, nmtPairs: [], semantic: [] });
    expect(normalizeServiceLanguages('semantic', languages)).toEqual({ asr: [], tts: [], voices: {}, nmtPairs: [], semantic: ['zh'] });
    expect(normalizeServiceLanguages('nmt', languages).nmtPairs).toEqual([{ src: 'en', tgt: 'es' }]);
  });

  it('reads a TTS service languages as tts plus the keys of voices, voices normalized in declared order', () => {
    const tts = normalizeServiceLanguages('tts', { tts: ['es', 'en-US'], voices: { 'en-us': ['amy', 'lessac'], 'en-GB': ['alan', 'amy'], fr: ['siwis'] } });
    expect(tts.tts).toEqual(['en', 'es', 'fr']);
    expect(tts.voices).toEqual({ en: ['amy', 'lessac', 'alan'], fr: ['siwis'] });
  });

  it('expands nmt_any_to_any into every ordered pair of distinct members, joined with nmt', () => {
    expect(normalizeServiceLanguages('nmt', { nmt: [{ src: 'de', tgt: 'en' }, { src: 'en', tgt: 'es' }], nmt_any_to_any: ['en', 'es', 'zh-cn'] }).nmtPairs).toEqual([
      { src: 'de', tgt: 'en' },
      { src: 'en', tgt: 'es' },
      { src: 'en', tgt: 'zh' },
      { src: 'es', tgt: 'en' },
      { src: 'es', tgt: 'zh' },
      { src: 'zh', tgt: 'en' },
      { src: 'zh', tgt: 'es' },
    ]);
  });

  it('reads a plain array as the languages of the own type (for NMT: any to any)', () => {
    expect(normalizeServiceLanguages('asr', ['zh', 'en', 'auto', 'en-US'])).toMatchObject({ asr: ['en', 'zh'], nmtPairs: [] });
    expect(normalizeServiceLanguages('tts', ['es']).tts).toEqual(['es']);
    expect(normalizeServiceLanguages('semantic', ['zh']).semantic).toEqual(['zh']);
    expect(normalizeServiceLanguages('nmt', ['en', 'es']).nmtPairs).toEqual([
      { src: 'en', tgt: 'es' },
      { src: 'es', tgt: 'en' },
    ]);
    expect(manifest({ ...base, languages: [] })).toMatchObject({ languagesDeclared: true, languages: { asr: [] } });
  });

  it('rejects a languages value of the wrong shape', () => {
    expect(paths({ ...base, languages: 'en' })).toEqual(['languages']);
  });
});
