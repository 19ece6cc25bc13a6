/**
 * The Apertium service translates through the Lingua NMT API (PROTOCOL.md §9.3) and reports exactly
 * the installed pairs. A fixed set of English sentences goes to Spanish and back: each step gives
 * non-empty text that differs from its input, and the round trip keeps most key nouns (Apertium is
 * rule-based: understandable, clumsy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';

interface TranslateAnswer {
  ok: boolean;
  text: string;
  model: string;
  provider: string;
}

/** Simple sentences and the nouns a round trip should bring back. */
const ROUND_TRIP: readonly { en: string; nouns: readonly string[] }[] = [
  { en: 'The cat is on the table.', nouns: ['cat', 'table'] },
  { en: 'I have a red car.', nouns: ['car'] },
  { en: 'The book is on the chair.', nouns: ['book', 'chair'] },
  { en: 'My brother lives in a big house.', nouns: ['brother', 'house'] },
  { en: 'The train arrives at the station.', nouns: ['train', 'station'] },
  { en: 'She drinks water every morning.', nouns: ['water', 'morning'] },
  { en: 'The children play in the park.', nouns: ['children', 'park'] },
  { en: 'We eat bread and cheese.', nouns: ['bread', 'cheese'] },
  { en: 'The doctor works in the hospital.', nouns: ['doctor', 'hospital'] },
  { en: 'The dog sleeps in the garden.', nouns: ['dog', 'garden'] },
];
/** Measured 17/19 (89 %) with apertium-eng-spa 0.8; the floor leaves room for other data versions. */
const MIN_KEEP_RATE = 0.7;

let built: BuiltService;
let service: RunningService;

beforeAll(async () => {
  built = await buildService('mt-apertium');
  service = await startService(built.bundle);
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

async function translate(text: string, src: string, tgt: string): Promise<TranslateAnswer> {
  const res = await postJson<TranslateAnswer>(service.baseUrl, '/v1/translate', { src_lang: src, tgt_lang: tgt, text });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toMatchObject({ ok: true, provider: 'apertium', model: 'apertium-eng-spa' });
  return res.body;
}

describe('mt-apertium translates English and Spanish', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('reports exactly the installed pairs in its health response', async () => {
    const health = (await (await fetch(`${service.baseUrl}/health`)).json()) as { status: string; languages: { nmt: { src: string; tgt: string }[] } };
    expect(health.status).toBe('ok');
    expect([...health.languages.nmt].sort((a, b) => a.src.localeCompare(b.src))).toEqual([
      { src: 'en', tgt: 'es' },
      { src: 'es', tgt: 'en' },
    ]);
  });

  it('accepts language tags with regions and ISO 639-3 codes', async () => {
    const answer = await translate('Good morning', 'en-US', 'spa');
    expect(answer.text.toLowerCase()).toContain('buenos');
  });

  it('keeps the key nouns of simple sentences through English → Spanish → English', async () => {
    const spanish = await Promise.all(ROUND_TRIP.map((s) => translate(s.en, 'en', 'es')));
    const back = await Promise.all(spanish.map((s) => translate(s.text, 'es', 'en')));
    let kept = 0;
    let total = 0;
    for (const [i, sentence] of ROUND_TRIP.entries()) {
      const es = spanish[i]?.text ?? '';
      const en = back[i]?.text ?? '';
      expect(es.trim()).not.toBe('');
      expect(es).not.toBe(sentence.en);
      expect(en.trim()).not.toBe('');
      expect(en).not.toBe(es);
      const words = new Set(en.toLowerCase().match(/\p{L}+/gu) ?? []);
      const lost = sentence.nouns.filter((noun) => !words.has(noun));
      kept += sentence.nouns.length - lost.length;
      total += sentence.nouns.length;
      console.log(`[mt round trip] ${sentence.en} → ${es} → ${en}${lost.length ? `   (lost: ${lost.join(', ')})` : ''}`);
    }
    const rate = kept / total;
    console.log(`[mt round trip] key nouns kept: ${kept}/${total} = ${(rate * 100).toFixed(0)} % (floor ${MIN_KEEP_RATE * 100} %)`);
    expect(rate).toBeGreaterThanOrEqual(MIN_KEEP_RATE);
  });
});
