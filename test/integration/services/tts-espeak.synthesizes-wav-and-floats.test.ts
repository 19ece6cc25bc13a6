/**
 * The eSpeak NG service speaks through both Lingua TTS APIs (PROTOCOL.md §9.4): `/tts` returns a
 * WAV whose header is right (22 050 Hz mono 16-bit, real sizes) and whose duration fits the text,
 * `/synthesize` returns float samples; voice names may be language codes or Piper names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../../native/services/shared/wav.js';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';

const SENTENCES: readonly { text: string; voice: string }[] = [
  { text: 'Where is the train station?', voice: 'en' },
  { text: 'I would like a cup of coffee.', voice: 'en_US-lessac-medium' },
  { text: '¿Dónde está la estación de tren?', voice: 'es' },
  { text: 'Me gustaría una taza de café, por favor.', voice: 'es_ES-davefx-medium' },
];
/** Plausible speaking time per word, in seconds. */
const SECONDS_PER_WORD = { min: 0.2, max: 0.8 };

let built: BuiltService;
let service: RunningService;

beforeAll(async () => {
  built = await buildService('tts-espeak');
  service = await startService(built.bundle);
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await service?.stop();
  built?.remove();
});

async function tts(text: string, voice: string): Promise<Response> {
  return fetch(`${service.baseUrl}/tts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, voice }) });
}

describe('tts-espeak synthesizes speech', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('reports the discovered languages, English and Spanish among them', async () => {
    const health = (await (await fetch(`${service.baseUrl}/health`)).json()) as { status: string; languages: { tts: string[]; voices: Record<string, string[]> } };
    expect(health.status).toBe('ok');
    expect(health.languages.tts).toEqual(expect.arrayContaining(['en', 'es', 'zh']));
    expect(health.languages.voices.es).toEqual(['es']);
  });

  it.each(SENTENCES)('/tts "$text" with voice $voice → a 22 050 Hz mono WAV of plausible length', async ({ text, voice }) => {
    const res = await tts(text, voice);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    const body = Buffer.from(await res.arrayBuffer());
    // The header must state the real sizes (eSpeak's own streamed header does not).
    expect(body.toString('ascii', 0, 4)).toBe('RIFF');
    expect(body.readUInt32LE(4)).toBe(body.length - 8);
    expect(body.readUInt32LE(40)).toBe(body.length - 44);
    const wav = readWav(body);
    expect(wav).toMatchObject({ sampleRate: 22_050, channels: 1 });
    const seconds = wav.samples.length / wav.sampleRate;
    const words = text.split(/\s+/).length;
    console.log(`[tts ${voice}] ${words} words → ${seconds.toFixed(2)} s (${(seconds / words).toFixed(2)} s/word)`);
    expect(seconds / words).toBeGreaterThanOrEqual(SECONDS_PER_WORD.min);
    expect(seconds / words).toBeLessThanOrEqual(SECONDS_PER_WORD.max);
    expect(Math.max(...wav.samples.map(Math.abs))).toBeGreaterThan(1_000);
  });

  it('/synthesize returns float samples in [-1, 1] with the sample rate', async () => {
    const res = await postJson<{ audio: number[]; sample_rate: number }>(service.baseUrl, '/synthesize', { text: 'Hola, ¿cómo estás?', language: 'es' });
    expect(res.status).toBe(200);
    expect(res.body.sample_rate).toBe(22_050);
    const seconds = res.body.audio.length / res.body.sample_rate;
    expect(seconds).toBeGreaterThan(0.5);
    expect(seconds).toBeLessThan(3);
    expect(res.body.audio.every((v) => typeof v === 'number' && v >= -1 && v <= 1)).toBe(true);
    expect(res.body.audio.some((v) => Math.abs(v) > 0.05)).toBe(true);
  });

  it('/voices lists voices by language with their eSpeak files', async () => {
    const body = (await (await fetch(`${service.baseUrl}/voices`)).json()) as { voices: { name: string; path: string }[] };
    expect(body.voices).toEqual(expect.arrayContaining([{ name: 'es', path: 'roa/es' }, { name: 'en-us', path: 'gmw/en-US' }]));
  });
});
