/**
 * What the HTTP thread and a decoder worker exchange (through `shared/worker-protocol.ts`). Both
 * sides are our own code on a hot path, so they share these types instead of re-parsing
 * (STYLE.md §6).
 */
import type { LibraryPaths, PocketSphinxModel, Recognition } from './pocketsphinx-ffi.js';
import type { DecoderSamples, EncodedAudio } from './utterance-audio.js';

export interface DecoderWorkerData {
  model: PocketSphinxModel;
  libraries: LibraryPaths;
  /** Longest audio accepted, in seconds. */
  maxAudioSeconds: number;
}

/** A task is the request's audio; its bytes are transferred, not copied. */
export type DecodeTask = EncodedAudio;

export interface DecodeResult {
  recognition: Recognition;
  /** Seconds of audio decoded. */
  duration: number;
  decodeMs: number;
  warnings: DecoderSamples['warnings'];
}
