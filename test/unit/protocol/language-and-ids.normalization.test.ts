/**
 * Language codes and sets (PROTOCOL.md §1.7), pairs and pool keys (§5.2), id formats (§1.6).
 */
import { describe, expect, it } from 'vitest';
import {
  JOB_ID_PATTERN,
  NODE_ID_PATTERN,
  SESSION_ID_PATTERN,
  UUID_V4_PATTERN,
  anyToAnyPairs,
  isAutoLanguage,
  newJobId,
  newNodeId,
  newSessionId,
  newUuid,
  normalizeLanguage,
  normalizeLanguageSet,
  normalizePairs,
  parsePoolKey,
  poolKey,
  sameLanguageSet,
  samePairSet,
} from '../../../src/protocol/index.js';

describe('language normalization (§1.7)', () => {
  it.each([
    ['zh-cn', 'zh'],
    ['zh-tw', 'zh'],
    ['zh-hans', 'zh'],
    ['zh-hant', 'zh'],
    ['pt-br', 'pt'],
    ['pt-pt', 'pt'],
    ['en-us', 'en'],
    ['en-gb', 'en'],
    ['in', 'id'],
    ['iw', 'he'],
    ['ZH-CN', 'zh'],
    ['en-US', 'en'],
    ['zh_CN', 'zh'],
    [' es ', 'es'],
    ['EN', 'en'],
    ['es-mx', 'es-mx'],
    ['auto', 'auto'],
  ])('%s → %s', (code, expected) => {
    expect(normalizeLanguage(code)).toBe(expected);
  });

  it('makes a set: normalized, deduplicated, without auto or empty codes, sorted', () => {
    expect(normalizeLanguageSet(['zh-CN', 'en', 'zh', 'auto', 'en-gb', '', 'iw'])).toEqual(['en', 'he', 'zh']);
    expect(isAutoLanguage('AUTO')).toBe(true);
  });

  it('compares sets ignoring order and aliases', () => {
    expect(sameLanguageSet(['zh', 'en'], ['en-us', 'zh-cn'])).toBe(true);
    expect(sameLanguageSet(['zh'], ['zh', 'en'])).toBe(false);
  });
});

describe('pairs and pool keys (§5.2)', () => {
  it('builds and parses src:tgt keys', () => {
    expect(poolKey('zh-CN', 'en-US')).toBe('zh:en');
    expect(parsePoolKey('zh:en')).toEqual({ src: 'zh', tgt: 'en' });
    expect(parsePoolKey('zh')).toBeUndefined();
    expect(parsePoolKey(':en')).toBeUndefined();
    expect(parsePoolKey('a:b:c')).toBeUndefined();
  });

  it('normalizes pair lists as sets, dropping self pairs and auto', () => {
    expect(normalizePairs([{ src: 'en', tgt: 'es' }, { src: 'zh-cn', tgt: 'en' }, { src: 'en-us', tgt: 'es' }, { src: 'zh-cn', tgt: 'zh-tw' }, { src: 'auto', tgt: 'en' }])).toEqual([
      { src: 'en', tgt: 'es' },
      { src: 'zh', tgt: 'en' },
    ]);
    expect(samePairSet([{ src: 'en', tgt: 'es' }, { src: 'es', tgt: 'en' }], [{ src: 'es', tgt: 'en' }, { src: 'en-GB', tgt: 'es' }])).toBe(true);
    expect(samePairSet([{ src: 'en', tgt: 'es' }], [{ src: 'es', tgt: 'en' }])).toBe(false);
  });

  it('expands any-to-any into ordered pairs of distinct members', () => {
    expect(anyToAnyPairs(['en', 'zh', 'en-us'])).toEqual([
      { src: 'en', tgt: 'zh' },
      { src: 'zh', tgt: 'en' },
    ]);
  });
});

describe('ids (§1.6)', () => {
  it('generates ids in the documented formats', () => {
    for (let i = 0; i < 20; i++) {
      expect(newNodeId()).toMatch(NODE_ID_PATTERN);
      expect(newSessionId()).toMatch(SESSION_ID_PATTERN);
      expect(newJobId()).toMatch(JOB_ID_PATTERN);
      expect(newUuid()).toMatch(UUID_V4_PATTERN);
    }
  });

  it('takes an injected random source', () => {
    const bytes = (size: number): Uint8Array => Uint8Array.from({ length: size }, (_, i) => [0x3f, 0x2a, 0x9c, 0x1b][i] ?? 0);
    expect(newNodeId(bytes)).toBe('node-3F2A9C1B');
    expect(newSessionId(bytes)).toBe('s-3F2A9C1B');
  });

  it('matches the example ids of PROTOCOL.md', () => {
    expect('node-3F2A9C1B').toMatch(NODE_ID_PATTERN);
    expect('s-9A0B1C2D').toMatch(SESSION_ID_PATTERN);
    expect('job-6f1c2a9e-6a43-4f7e-9a35-2f0d9e1b7c10').toMatch(JOB_ID_PATTERN);
    expect('node-3f2a9c1b').not.toMatch(NODE_ID_PATTERN);
  });
});
