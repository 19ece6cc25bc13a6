/**
 * eSpeak NG through koffi: `libespeak-ng.so.1` (Debian `libespeak-ng1`, installed with
 * `espeak-ng`) in synchronous retrieval mode, so a sentence is synthesised in-process in a few
 * milliseconds instead of a process start and voice-data load per request. The library keeps one
 * global synthesiser per process and is not thread-safe: exactly one thread may load it
 * (`espeak.worker.ts`, a pool of one). Prototypes follow espeak-ng's `speak_lib.h`.
 */
import koffi from 'koffi';
import { ServiceError } from '../shared/service-error.js';

export const DEFAULT_ESPEAK_LIBRARY = 'libespeak-ng.so.1';

// speak_lib.h constants.
const AUDIO_OUTPUT_SYNCHRONOUS = 2;
const INITIALIZE_DONT_EXIT = 0x8000;
const POS_CHARACTER = 1;
const CHARS_UTF8 = 1;
/** A pause at the end of the text, as the `espeak-ng` command adds. */
const ENDPAUSE = 0x1000;
const EE_OK = 0;

interface Bindings {
  initialize(output: number, bufferMs: number, path: null, options: number): number;
  setSynthCallback(callback: bigint): void;
  setVoiceByName(name: string): number;
  synth(text: Buffer, size: number, position: number, positionType: number, endPosition: number, flags: number, uid: number[], userData: null): number;
}

/** C0 control characters other than tab and newline would reach the synthesiser as garbage (NUL would cut the text). */
function withoutControlCharacters(text: string): string {
  return Array.from(text, (ch) => {
    const code = ch.charCodeAt(0);
    return (code < 32 && ch !== '\n' && ch !== '\t') || code === 127 ? ' ' : ch;
  }).join('');
}

export class EspeakSynthesizer {
  readonly sampleRate: number;
  readonly #lib: Bindings;
  #chunks: Int16Array[] = [];
  #voice: string | undefined;

  private constructor(lib: Bindings, sampleRate: number) {
    this.#lib = lib;
    this.sampleRate = sampleRate;
  }

  static open(library = DEFAULT_ESPEAK_LIBRARY): EspeakSynthesizer {
    const so = koffi.load(library);
    const callbackType = koffi.proto('int espeak_synth_callback(int16_t *wav, int numsamples, void *events)');
    // Each cast gives one C prototype its TypeScript signature; koffi itself types calls as `any`.
    const lib: Bindings = {
      initialize: so.func('int espeak_Initialize(int output, int buflength, const char *path, int options)') as Bindings['initialize'],
      setSynthCallback: so.func('void espeak_SetSynthCallback(espeak_synth_callback *callback)') as Bindings['setSynthCallback'],
      setVoiceByName: so.func('int espeak_SetVoiceByName(const char *name)') as Bindings['setVoiceByName'],
      synth: so.func(
        'int espeak_Synth(const void *text, size_t size, unsigned int position, int position_type, unsigned int end_position, unsigned int flags, _Out_ unsigned int *unique_identifier, void *user_data)',
      ) as Bindings['synth'],
    };
    // DONT_EXIT: without it a missing espeak-ng-data directory would exit() the whole service.
    const sampleRate = lib.initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, null, INITIALIZE_DONT_EXIT);
    if (sampleRate <= 0) throw new Error('espeak_Initialize failed');
    const synthesizer = new EspeakSynthesizer(lib, sampleRate);
    const onAudio = (wav: unknown, count: number): number => {
      // The memory behind `wav` is eSpeak's and valid only during this call: copy it out.
      if (wav !== null && count > 0) synthesizer.#chunks.push(new Int16Array(koffi.view(wav, count * 2).slice(0)));
      return 0;
    };
    lib.setSynthCallback(koffi.register(onAudio, koffi.pointer(callbackType)));
    return synthesizer;
  }

  /** Speaks `text` with an eSpeak voice file (`gmw/en-US`, `roa/es`); blocks until done. */
  synthesize(voice: string, text: string): Int16Array<ArrayBuffer> {
    if (voice !== this.#voice) {
      // Loading a voice reads its data files: only when it changes.
      if (this.#lib.setVoiceByName(voice) !== EE_OK) throw new ServiceError(404, 'UNKNOWN_VOICE', `eSpeak NG cannot load voice "${voice}"`);
      this.#voice = voice;
    }
    const bytes = Buffer.from(`${withoutControlCharacters(text)}\0`, 'utf8');
    this.#chunks = [];
    const status = this.#lib.synth(bytes, bytes.length, 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE, [0], null);
    const chunks = this.#chunks;
    this.#chunks = [];
    if (status !== EE_OK) throw new Error(`espeak_Synth returned ${status}`);
    const samples = new Int16Array(chunks.reduce((sum, c) => sum + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      samples.set(chunk, offset);
      offset += chunk.length;
    }
    return samples;
  }
}
