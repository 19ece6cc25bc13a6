/**
 * ASR reference service over CMU PocketSphinx 0.8 (PROTOCOL.md §9.2): `POST /utterance` with pcm16,
 * wav or Plan-A Opus audio → `{text, language, duration, segments}`. The model is loaded once per
 * decoder worker thread (through koffi, no per-request process), so the HTTP thread stays free.
 *
 * Environment (besides the shared SERVICE_* limits): `ASR_WORKERS` decoder threads (default 2, at
 * most the CPU count), `POCKETSPHINX_MODEL_DIR`, `ASR_MAX_AUDIO_S` (default 300).
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseRequest } from '../shared/http-body.js';
import { envInt } from '../shared/service-config.js';
import { ServiceError } from '../shared/service-error.js';
import { runService } from '../shared/service-main.js';
import type { ServiceContext, ServiceEngine } from '../shared/service-main.js';
import { WorkerPool } from '../shared/worker-pool.js';
import { DEFAULT_LIBRARIES, DEFAULT_MODEL_DIR, modelFromDir } from './pocketsphinx-ffi.js';
import { toSegments } from './transcript.js';
import { DECODER_SAMPLE_RATE, checkUtteranceAudio } from './utterance-audio.js';
import type { EncodedAudio } from './utterance-audio.js';
import type { DecodeResult, DecodeTask, DecoderWorkerData } from './worker-messages.js';

const UtteranceRequestSchema = z.looseObject({
  job_id: z.string(),
  src_lang: z.string(),
  audio: z.string(),
  audio_format: z.string(),
  sample_rate: z.number().int().positive().nullish(),
  language: z.string().nullish(),
});

/** Languages this model recognises; `auto` is accepted and answered as `en`. */
const LANGUAGE = 'en';

function checkLanguage(requested: string): void {
  const primary = requested.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (primary !== LANGUAGE && primary !== 'auto' && primary !== 'eng') {
    throw new ServiceError(400, 'UNSUPPORTED_LANGUAGE', `this service recognises only "${LANGUAGE}"`);
  }
}

/** One second of quiet noise as pcm16: enough to run the whole decoder once. */
function warmUpAudio(): EncodedAudio {
  const samples = new Int16Array(DECODER_SAMPLE_RATE);
  let seed = 1;
  for (let i = 0; i < samples.length; i += 1) {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    samples[i] = (seed % 200) - 100;
  }
  return { format: 'pcm16', bytes: new Uint8Array(samples.buffer), sampleRate: DECODER_SAMPLE_RATE };
}

function workerCount(env: NodeJS.ProcessEnv): number {
  return envInt(env, 'ASR_WORKERS', Math.min(2, availableParallelism()), 1);
}

function createEngine({ config, env, log }: ServiceContext): ServiceEngine {
  const maxAudioSeconds = envInt(env, 'ASR_MAX_AUDIO_S', 300, 1);
  const workerData: DecoderWorkerData = { model: modelFromDir(env.POCKETSPHINX_MODEL_DIR ?? DEFAULT_MODEL_DIR), libraries: DEFAULT_LIBRARIES, maxAudioSeconds };
  const pool = new WorkerPool<DecodeTask, DecodeResult>({
    engine: 'pocketsphinx',
    size: workerCount(env),
    workerUrl: new URL('./pocketsphinx.worker.mjs', import.meta.url),
    workerData,
    taskTimeoutMs: config.limits.engineTimeoutMs,
    initTimeoutMs: 30_000,
    log,
  });
  // The audio's bytes move to the worker (checkUtteranceAudio gives them a buffer of their own).
  const decode = (audio: EncodedAudio, signal?: AbortSignal): Promise<DecodeResult> => pool.run(audio, [audio.bytes.buffer as ArrayBuffer], signal);
  return {
    routes: [
      {
        method: 'POST',
        path: '/utterance',
        work: true,
        handle: async ({ body, signal }) => {
          const req = parseRequest(UtteranceRequestSchema, body);
          checkLanguage(req.language ?? req.src_lang);
          const { recognition, duration, decodeMs, warnings } = await decode(checkUtteranceAudio(req), signal);
          if (warnings.length > 0) log.warn({ jobId: req.job_id, warnings }, 'audio accepted with defects');
          log.debug({ jobId: req.job_id, duration, decodeMs: Math.round(decodeMs), pii: { text: recognition.text } }, 'utterance decoded');
          return {
            kind: 'json',
            body: { text: recognition.text, language: LANGUAGE, language_probability: 1, duration, segments: toSegments(recognition) },
          };
        },
      },
    ],
    warmUp: async () => {
      await pool.start();
      // Every worker answers one real decode before the service says it is ready.
      await Promise.all(Array.from({ length: pool.size }, () => decode(warmUpAudio())));
      return { languages: { asr: [LANGUAGE] }, workers: pool.size };
    },
    close: () => pool.close(),
  };
}

await runService({
  manifestUrl: new URL('./service.json', import.meta.url),
  // One request per decoder thread at a time; more wait in the queue.
  limitDefaults: (env) => ({ maxInFlight: workerCount(env), maxQueue: 8, engineTimeoutMs: 60_000 }),
  createEngine,
});
