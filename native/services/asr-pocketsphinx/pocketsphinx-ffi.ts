/**
 * CMU PocketSphinx 0.8 (Debian's 0.8+5prealpha) through koffi: `libpocketsphinx.so.3` and `libsphinxbase.so.3` loaded into
 * the calling thread, one decoder per `PocketSphinxDecoder`. Decoding blocks the thread for about
 * 0.15–0.3 s per second of audio, so this module runs only inside a worker thread
 * (`pocketsphinx.worker.ts`), never on the HTTP thread. Prototypes follow
 * /usr/include/pocketsphinx/pocketsphinx.h and /usr/include/<triplet>/sphinxbase/{cmd_ln,err,logmath}.h.
 */
import koffi from 'koffi';
import { join } from 'node:path';

/** The Debian `pocketsphinx-en-us` model. */
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketSphinxModel {
  /** Acoustic model directory (`-hmm`). */
  hmm: string;
  /** Language model (`-lm`). */
  lm: string;
  /** Pronunciation dictionary (`-dict`). */
  dict: string;
}

export function modelFromDir(dir: string): PocketSphinxModel {
  return { hmm: join(dir, 'en-us'), lm: join(dir, 'en-us.lm.bin'), dict: join(dir, 'cmudict-en-us.dict') };
}

/** One recognised word with its frame span (100 frames per second) and posterior probability. */
export interface RecognisedWord {
  word: string;
  startFrame: number;
  endFrame: number;
  probability: number;
}

export interface Recognition {
  text: string;
  words: RecognisedWord[];
}

/** Frames per second of the en-us model's front end (`-frate` default). */
export const FRAMES_PER_SECOND = 100;

// koffi hands native pointers to JS as opaque external objects.
type Pointer = object;

interface Bindings {
  errSetLogfp(fp: null): void;
  cmdLnParseR(inout: null, defn: Pointer, argc: number, argv: string[], strict: number): Pointer | null;
  cmdLnFreeR(config: Pointer): number;
  psArgs(): Pointer;
  psInit(config: Pointer): Pointer | null;
  psFree(ps: Pointer): number;
  psStartStream(ps: Pointer): number;
  psStartUtt(ps: Pointer): number;
  psProcessRaw(ps: Pointer, data: Int16Array, samples: number, noSearch: number, fullUtt: number): number;
  psEndUtt(ps: Pointer): number;
  psGetHyp(ps: Pointer, score: number[]): string | null;
  psGetLogmath(ps: Pointer): Pointer;
  psSegIter(ps: Pointer): Pointer | null;
  psSegNext(seg: Pointer): Pointer | null;
  psSegWord(seg: Pointer): string;
  psSegFrames(seg: Pointer, start: number[], end: number[]): void;
  psSegProb(seg: Pointer, ascr: number[], lscr: number[], lback: number[]): number;
  logmathExp(logmath: Pointer, value: number): number;
}

export interface LibraryPaths {
  pocketsphinx: string;
  sphinxbase: string;
}

export const DEFAULT_LIBRARIES: LibraryPaths = { pocketsphinx: 'libpocketsphinx.so.3', sphinxbase: 'libsphinxbase.so.3' };

function bind(paths: LibraryPaths): Bindings {
  const sb = koffi.load(paths.sphinxbase);
  const ps = koffi.load(paths.pocketsphinx);
  // Each cast gives one C prototype its TypeScript signature; koffi itself types calls as `any`.
  return {
    errSetLogfp: sb.func('void err_set_logfp(void *stream)') as Bindings['errSetLogfp'],
    cmdLnParseR: sb.func('void *cmd_ln_parse_r(void *inout, void *defn, int32_t argc, const char **argv, int32_t strict)') as Bindings['cmdLnParseR'],
    cmdLnFreeR: sb.func('int cmd_ln_free_r(void *config)') as Bindings['cmdLnFreeR'],
    psArgs: ps.func('void *ps_args(void)') as Bindings['psArgs'],
    psInit: ps.func('void *ps_init(void *config)') as Bindings['psInit'],
    psFree: ps.func('int ps_free(void *ps)') as Bindings['psFree'],
    psStartStream: ps.func('int ps_start_stream(void *ps)') as Bindings['psStartStream'],
    psStartUtt: ps.func('int ps_start_utt(void *ps)') as Bindings['psStartUtt'],
    psProcessRaw: ps.func('int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)') as Bindings['psProcessRaw'],
    psEndUtt: ps.func('int ps_end_utt(void *ps)') as Bindings['psEndUtt'],
    psGetHyp: ps.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)') as Bindings['psGetHyp'],
    psGetLogmath: ps.func('void *ps_get_logmath(void *ps)') as Bindings['psGetLogmath'],
    psSegIter: ps.func('void *ps_seg_iter(void *ps)') as Bindings['psSegIter'],
    psSegNext: ps.func('void *ps_seg_next(void *seg)') as Bindings['psSegNext'],
    psSegWord: ps.func('const char *ps_seg_word(void *seg)') as Bindings['psSegWord'],
    psSegFrames: ps.func('void ps_seg_frames(void *seg, _Out_ int *out_sf, _Out_ int *out_ef)') as Bindings['psSegFrames'],
    psSegProb: ps.func('int32_t ps_seg_prob(void *seg, _Out_ int32_t *out_ascr, _Out_ int32_t *out_lscr, _Out_ int32_t *out_lback)') as Bindings['psSegProb'],
    logmathExp: sb.func('double logmath_exp(void *lmath, int logb_p)') as Bindings['logmathExp'],
  };
}

/** `<s>`, `</s>`, `<sil>`, `[NOISE]`, `++GARBAGE++`: fillers, not words. */
function isFiller(word: string): boolean {
  return word.startsWith('<') || word.startsWith('[') || word.startsWith('++');
}

export class PocketSphinxDecoder {
  readonly #lib: Bindings;
  readonly #config: Pointer;
  #decoder: Pointer | undefined;

  private constructor(lib: Bindings, config: Pointer, decoder: Pointer) {
    this.#lib = lib;
    this.#config = config;
    this.#decoder = decoder;
  }

  static open(model: PocketSphinxModel, libraries: LibraryPaths = DEFAULT_LIBRARIES): PocketSphinxDecoder {
    const lib = bind(libraries);
    // Silence the library's log without `-logfn`: ps_init with -logfn closes and reopens one global
    // FILE*, which races with another worker's decoder writing to it. A NULL stream closes nothing.
    lib.errSetLogfp(null);
    const argv = ['-hmm', model.hmm, '-lm', model.lm, '-dict', model.dict];
    const config = lib.cmdLnParseR(null, lib.psArgs(), argv.length, argv, 1);
    if (!config) throw new Error('pocketsphinx rejected its configuration');
    const decoder = lib.psInit(config);
    if (!decoder) {
      lib.cmdLnFreeR(config);
      throw new Error(`pocketsphinx could not load the model at ${model.hmm}`);
    }
    return new PocketSphinxDecoder(lib, config, decoder);
  }

  /** Decodes one whole utterance of 16 kHz mono samples. */
  decode(samples: Int16Array): Recognition {
    const lib = this.#lib;
    const ps = this.#decoder;
    if (!ps) throw new Error('decoder is closed');
    // Every request is a stream of its own: without this the noise estimate and cepstral mean carry
    // over from earlier requests, and the same audio decodes differently depending on the traffic
    // before it (measured on the fixtures: "call a doctor" became "call it dr").
    if (lib.psStartStream(ps) < 0) throw new Error('ps_start_stream failed');
    if (lib.psStartUtt(ps) < 0) throw new Error('ps_start_utt failed');
    // full_utt = 1: the whole utterance is here, so the front end normalises over all of it.
    if (lib.psProcessRaw(ps, samples, samples.length, 0, 1) < 0) throw new Error('ps_process_raw failed');
    if (lib.psEndUtt(ps) < 0) throw new Error('ps_end_utt failed');
    const text = lib.psGetHyp(ps, [0]) ?? '';
    const logmath = lib.psGetLogmath(ps);
    const words: RecognisedWord[] = [];
    for (let seg = lib.psSegIter(ps); seg; seg = lib.psSegNext(seg)) {
      const raw = lib.psSegWord(seg);
      if (isFiller(raw)) continue;
      const start = [0];
      const end = [0];
      lib.psSegFrames(seg, start, end);
      const logProb = lib.psSegProb(seg, [0], [0], [0]);
      words.push({
        // Alternative pronunciations come back as `word(2)`.
        word: raw.replace(/\(\d+\)$/, ''),
        startFrame: start[0] ?? 0,
        endFrame: end[0] ?? 0,
        probability: Math.min(1, Math.max(0, lib.logmathExp(logmath, logProb))),
      });
    }
    return { text: text.trim(), words };
  }

  close(): void {
    if (!this.#decoder) return;
    this.#lib.psFree(this.#decoder);
    this.#lib.cmdLnFreeR(this.#config);
    this.#decoder = undefined;
  }
}
