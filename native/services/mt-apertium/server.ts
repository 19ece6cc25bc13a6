/**
 * NMT reference service over Apertium (PROTOCOL.md §9.3): `POST /v1/translate` →
 * `{ok: true, text, model, provider: "apertium"}`. The directions come from the modes installed on
 * this machine, each checked with a real translation at start; the ready health response reports
 * exactly those (`languages.nmt`, §9.7 [ext]).
 *
 * Apertium is run as `apertium -u <mode> FILE` on a temporary file: it cannot read a socket that
 * Node hands it as /dev/stdin (ENGINES.md). Environment (besides the shared SERVICE_* limits):
 * `APERTIUM_DATADIR` (default /usr/share/apertium), `MT_MAX_TEXT_CHARS` (default 10 000).
 */
import { z } from 'zod';
import { EngineProcesses } from '../shared/engine-process.js';
import { parseRequest } from '../shared/http-body.js';
import { ScratchDir } from '../shared/scratch-dir.js';
import { envInt } from '../shared/service-config.js';
import { ServiceError } from '../shared/service-error.js';
import { runService } from '../shared/service-main.js';
import type { ServiceContext, ServiceEngine } from '../shared/service-main.js';
import { DEFAULT_APERTIUM_DATADIR, discoverPairs, normaliseLanguage } from './apertium-pairs.js';
import type { ApertiumPair } from './apertium-pairs.js';

const TranslateRequestSchema = z.looseObject({
  src_lang: z.string(),
  tgt_lang: z.string(),
  text: z.string(),
  context_text: z.string().nullish(),
  num_candidates: z.number().int().nonnegative().nullish(),
});

/** A translation is at most this many times longer than its source, in bytes. */
const OUTPUT_GROWTH = 8;

/**
 * `-u` drops the `*` marks of unknown words; Apertium also marks words it could not generate (`#`)
 * or look up in the bilingual dictionary (`@`). A listener should hear the word, not the mark.
 */
function cleanOutput(raw: string): string {
  return raw
    .split('\n')
    .map((line) => line.replace(/(^|[\s¿¡("'])[#@](?=[\p{L}\p{N}])/gu, '$1').trim())
    .join('\n')
    .trim();
}

function createEngine({ config, env, log }: ServiceContext): ServiceEngine {
  const datadir = env.APERTIUM_DATADIR ?? DEFAULT_APERTIUM_DATADIR;
  const maxChars = envInt(env, 'MT_MAX_TEXT_CHARS', 10_000, 1);
  const scratch = new ScratchDir('mt-apertium');
  const processes = new EngineProcesses({ tmpdir: scratch.path });
  const pairs = new Map<string, ApertiumPair>();

  const run = (pair: ApertiumPair, text: string, signal?: AbortSignal): Promise<string> =>
    scratch.withFile(`${text}\n`, '.txt', async (file) => {
      const { stdout } = await processes.run('apertium', ['-d', datadir, '-u', pair.mode, file], {
        timeoutMs: config.limits.engineTimeoutMs,
        maxOutputBytes: Buffer.byteLength(text) * OUTPUT_GROWTH + 4_096,
        signal,
      });
      return cleanOutput(stdout.toString('utf8'));
    });

  return {
    routes: [
      {
        method: 'POST',
        path: '/v1/translate',
        work: true,
        handle: async ({ body, signal }) => {
          const req = parseRequest(TranslateRequestSchema, body);
          const src = normaliseLanguage(req.src_lang);
          const tgt = normaliseLanguage(req.tgt_lang);
          const pair = pairs.get(`${src}>${tgt}`);
          if (!pair) {
            const known = [...pairs.values()].map((p) => `${p.src}→${p.tgt}`).join(', ');
            throw new ServiceError(400, 'UNSUPPORTED_LANGUAGE_PAIR', `no Apertium pair ${src}→${tgt} on this machine (have: ${known})`);
          }
          const text = req.text.trim();
          if (text === '') throw new ServiceError(400, 'EMPTY_TEXT', 'text is empty');
          if (text.length > maxChars) throw new ServiceError(400, 'TEXT_TOO_LONG', `text is longer than ${maxChars} characters`);
          const translated = await run(pair, text, signal);
          log.debug({ mode: pair.mode, chars: text.length, pii: { text, translated } }, 'translated');
          return { kind: 'json', body: { ok: true, text: translated, model: pair.model, provider: 'apertium' } };
        },
      },
    ],
    warmUp: async () => {
      const discovered = await discoverPairs(datadir);
      // Only directions that translate for real are offered (a mode file can outlive its data).
      const checked = await Promise.all(
        discovered.map(async (pair) => {
          try {
            return (await run(pair, 'hello')) === '' ? undefined : pair;
          } catch (err) {
            log.warn({ err, mode: pair.mode }, 'Apertium mode does not run; not offered');
            return undefined;
          }
        }),
      );
      for (const pair of checked) if (pair) pairs.set(`${pair.src}>${pair.tgt}`, pair);
      if (pairs.size === 0) throw new Error(`no working Apertium pair under ${datadir}/modes`);
      const nmt = [...pairs.values()].map(({ src, tgt }) => ({ src, tgt }));
      log.info({ modes: [...pairs.values()].map((p) => p.mode) }, 'Apertium pairs ready');
      return { languages: { nmt }, provider: 'apertium' };
    },
    close: async () => {
      processes.killAll();
      scratch.remove();
    },
  };
}

await runService({
  manifestUrl: new URL('./service.json', import.meta.url),
  limitDefaults: () => ({ maxInFlight: 4, maxQueue: 32, engineTimeoutMs: 10_000 }),
  createEngine,
});
