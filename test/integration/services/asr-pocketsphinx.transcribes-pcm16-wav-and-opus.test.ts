/**
 * The PocketSphinx service transcribes the flite fixtures through the Lingua ASR API (PROTOCOL.md
 * §9.2) with a word error rate of at most 10 %, whatever the audio format: WAV, pcm16 at 16 kHz
 * and at 48 kHz (resampled by the service), and Plan-A Opus (§7.1) encoded here with @evan/opus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcm16ToBytes } from '../../../native/services/shared/pcm16.js';
import { encodePlanA } from '../../../native/services/shared/plan-a-opus.js';
import { resamplePcm16 } from '../../../native/services/shared/resample.js';
import { readWav } from '../../../native/services/shared/wav.js';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';
import type { SpeechFixture } from '../../support/speech-fixtures.js';
import { wordErrorRate } from '../../support/word-error-rate.js';

interface AsrAnswer {
  text: string;
  language: string;
  duration: number;
  segments: { text: string; start: number; end: number; words: { word: string; start: number; end: number; probability: number }[] }[];
}

const MAX_WER = 0.1;
const fixtures = loadSpeechFixtures();
let built: BuiltService;
let service: RunningService;

beforeAll(async () => {
  built = await buildService('asr-pocketsphinx');
  service = await startService(built.bundle, { env: { ASR_WORKERS: '2' } });
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

type Encoding = (fixture: SpeechFixture) => { audio: string; audio_format: string; sample_rate: number };

const ENCODINGS: Record<string, Encoding> = {
  wav: (f) => ({ audio: f.wav.toString('base64'), audio_format: 'wav', sample_rate: 16_000 }),
  'pcm16 16 kHz': (f) => ({ audio: pcm16ToBytes(readWav(f.wav).samples).toString('base64'), audio_format: 'pcm16', sample_rate: 16_000 }),
  'pcm16 48 kHz': (f) => ({
    audio: pcm16ToBytes(resamplePcm16(readWav(f.wav).samples, 16_000, 48_000)).toString('base64'),
    audio_format: 'pcm16',
    sample_rate: 48_000,
  }),
  'opus (Plan A)': (f) => ({ audio: encodePlanA(readWav(f.wav).samples).toString('base64'), audio_format: 'opus', sample_rate: 16_000 }),
};

// WAV and Opus run over every fixture; the pcm16 paths share WAV's decoder input (16 kHz) or add
// only resampling (48 kHz), so one fixture each keeps the suite fast.
const SETS: Record<string, SpeechFixture[]> = {
  wav: fixtures,
  'opus (Plan A)': fixtures,
  'pcm16 16 kHz': fixtures.slice(0, 1),
  'pcm16 48 kHz': fixtures.slice(1, 2),
};
/** Answers to the WAV set, kept for the shape checks below. */
const wavAnswers = new Map<SpeechFixture, AsrAnswer>();

async function transcribe(fixture: SpeechFixture, encoding: Encoding, index: number): Promise<AsrAnswer> {
  const res = await postJson<AsrAnswer>(service.baseUrl, '/utterance', { job_id: `job-${index}`, src_lang: 'en', ...encoding(fixture) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe('asr-pocketsphinx transcribes the speech fixtures', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('answered not_ready before its warm-up decode, then ok with its languages', async () => {
    expect(service.healthSeen[0]).toMatchObject({ status: 503, body: { status: 'not_ready' } });
    const health = (await (await fetch(`${service.baseUrl}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', languages: { asr: ['en'] }, workers: 2 });
  });

  it.each(Object.keys(SETS))('%s: word error rate at most 10 percent', async (name) => {
    const set = SETS[name] ?? [];
    const encoding = ENCODINGS[name];
    if (!encoding) throw new Error(name);
    const answers = await Promise.all(set.map((f, i) => transcribe(f, encoding, i)));
    if (name === 'wav') for (const [i, f] of set.entries()) wavAnswers.set(f, answers[i] as AsrAnswer);
    const pairs = set.map((f, i) => ({ reference: f.text, hypothesis: answers[i]?.text ?? '' }));
    const { wer, edits, referenceWords } = wordErrorRate(pairs);
    const lines = pairs.map((p) => `  ref: ${p.reference}\n  hyp: ${p.hypothesis}`).join('\n');
    console.log(`[asr ${name}] WER ${(wer * 100).toFixed(1)} % (${edits} edits / ${referenceWords} words, ${set.length} fixtures)\n${lines}`);
    expect(wer).toBeLessThanOrEqual(MAX_WER);
  });

  it('reports language, duration and word-timed segments inside the audio', async () => {
    const fixture = fixtures[0];
    const answer = fixture && wavAnswers.get(fixture);
    if (!fixture || !answer) throw new Error('the WAV set runs first');
    const seconds = readWav(fixture.wav).samples.length / 16_000;
    expect(answer.language).toBe('en');
    expect(answer.duration).toBeCloseTo(seconds, 2);
    expect(answer.segments.length).toBeGreaterThan(0);
    expect(answer.segments.map((s) => s.text).join(' ')).toBe(answer.text);
    for (const segment of answer.segments) {
      expect(segment.start).toBeLessThan(segment.end);
      expect(segment.end).toBeLessThanOrEqual(seconds + 0.01);
      for (const word of segment.words) {
        expect(word.start).toBeLessThan(word.end);
        expect(word.probability).toBeGreaterThanOrEqual(0);
        expect(word.probability).toBeLessThanOrEqual(1);
      }
    }
  });
});
