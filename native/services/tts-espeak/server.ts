/**
 * TTS reference service over eSpeak NG (PROTOCOL.md §9.4): `POST /tts {text, voice}` → a WAV body
 * (22 050 Hz mono, header with the real sizes), `POST /synthesize` → float samples, `GET /voices`.
 * Synthesis runs in-process through libespeak-ng in one worker thread (see `espeak-ffi.ts`); the
 * voices are discovered at start with `espeak-ng --voices` and reported in health.
 *
 * Environment (besides the shared SERVICE_* limits): `TTS_MAX_TEXT_CHARS` (default 5 000).
 */
import { z } from 'zod';
import { EngineProcesses } from '../shared/engine-process.js';
import { parseRequest } from '../shared/http-body.js';
import { pcm16ToFloat } from '../shared/pcm16.js';
import { envInt } from '../shared/service-config.js';
import { ServiceError } from '../shared/service-error.js';
import { runService } from '../shared/service-main.js';
import type { ServiceContext, ServiceEngine } from '../shared/service-main.js';
import { writeWav } from '../shared/wav.js';
import { WorkerPool } from '../shared/worker-pool.js';
import { VoiceCatalogue, parseVoiceList } from './espeak-voices.js';
import type { EspeakVoice } from './espeak-voices.js';
import type { SynthResult, SynthTask } from './synth-messages.js';

const TtsRequestSchema = z.looseObject({ text: z.string(), voice: z.string(), language: z.string().nullish() });
const SynthesizeRequestSchema = z.looseObject({
  text: z.string(),
  language: z.string().nullish(),
  voice: z.string().nullish(),
  speaker_id: z.string().nullish(),
  speaker: z.string().nullish(),
});

/** eSpeak NG's output rate. */
const ESPEAK_SAMPLE_RATE = 22_050;

function createEngine({ config, env, log }: ServiceContext): ServiceEngine {
  const maxChars = envInt(env, 'TTS_MAX_TEXT_CHARS', 5_000, 1);
  const processes = new EngineProcesses();
  // One worker: libespeak-ng keeps a single global synthesiser per process.
  const pool = new WorkerPool<SynthTask, SynthResult>({
    engine: 'espeak-ng',
    size: 1,
    workerUrl: new URL('./espeak.worker.mjs', import.meta.url),
    workerData: undefined,
    taskTimeoutMs: config.limits.engineTimeoutMs,
    initTimeoutMs: 30_000,
    log,
  });
  let catalogue = new VoiceCatalogue([]);

  const checkText = (raw: string): string => {
    const text = raw.trim();
    if (text === '') throw new ServiceError(400, 'EMPTY_TEXT', 'text is empty');
    if (text.length > maxChars) throw new ServiceError(400, 'TEXT_TOO_LONG', `text is longer than ${maxChars} characters`);
    return text;
  };

  const voiceFor = (name: string): EspeakVoice => {
    const voice = catalogue.resolve(name);
    if (!voice) throw new ServiceError(404, 'UNKNOWN_VOICE', `no eSpeak NG voice for "${name.slice(0, 64)}"`);
    return voice;
  };

  const synthesise = (voice: EspeakVoice, text: string, signal?: AbortSignal): Promise<SynthResult> => pool.run({ voice: voice.file, text }, [], signal);

  return {
    routes: [
      {
        method: 'POST',
        path: '/tts',
        work: true,
        handle: async ({ body, signal }) => {
          const req = parseRequest(TtsRequestSchema, body);
          const voice = voiceFor(req.voice);
          const text = checkText(req.text);
          const audio = await synthesise(voice, text, signal);
          log.debug({ voice: voice.language, samples: audio.samples.length, pii: { text } }, 'synthesised');
          return { kind: 'bytes', contentType: 'audio/wav', body: writeWav(audio.samples, audio.sampleRate) };
        },
      },
      {
        method: 'POST',
        path: '/synthesize',
        work: true,
        handle: async ({ body, signal }) => {
          const req = parseRequest(SynthesizeRequestSchema, body);
          const voice = voiceFor(req.voice ?? req.language ?? 'en');
          const text = checkText(req.text);
          const audio = await synthesise(voice, text, signal);
          // Five decimals keep 16-bit precision at a third of the JSON size of full doubles.
          const floats = Array.from(pcm16ToFloat(audio.samples), (v) => Math.round(v * 100_000) / 100_000);
          return {
            kind: 'json',
            body: { audio: floats, sample_rate: audio.sampleRate, text, used_reference: false, speaker_applied: false },
          };
        },
      },
      {
        method: 'GET',
        path: '/voices',
        work: false,
        handle: () => ({ kind: 'json', body: { voices: catalogue.voices.map((v) => ({ name: v.language, path: v.file })) } }),
      },
    ],
    warmUp: async () => {
      const { stdout } = await processes.run('espeak-ng', ['--voices'], { timeoutMs: config.limits.engineTimeoutMs, maxOutputBytes: 1 << 20 });
      catalogue = new VoiceCatalogue(parseVoiceList(stdout.toString('utf8')));
      const english = catalogue.resolve('en');
      if (!english) throw new Error('eSpeak NG has no English voice');
      await pool.start();
      const audio = await synthesise(english, 'ready');
      if (audio.samples.length === 0 || audio.sampleRate !== ESPEAK_SAMPLE_RATE) throw new Error('eSpeak NG warm-up produced no audio at 22 050 Hz');
      const languages = catalogue.languages();
      log.info({ voices: catalogue.voices.length, languages: languages.length }, 'eSpeak NG voices ready');
      return {
        languages: { tts: languages, voices: Object.fromEntries(languages.map((lang) => [lang, [lang]])) },
        sample_rate: ESPEAK_SAMPLE_RATE,
      };
    },
    close: async () => {
      processes.killAll();
      await pool.close();
    },
  };
}

await runService({
  manifestUrl: new URL('./service.json', import.meta.url),
  // One synthesis at a time (one worker); a few more wait their turn.
  limitDefaults: () => ({ maxInFlight: 1, maxQueue: 32, engineTimeoutMs: 15_000 }),
  createEngine,
});
