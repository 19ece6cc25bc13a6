/**
 * Messages between the HTTP thread and a decoder worker. Both sides are our own code on a hot path,
 * so they share these types instead of re-parsing (STYLE.md §6).
 */
import type { ServiceErrorCode } from '../shared/service-error.js';
import type { LibraryPaths, PocketSphinxModel, Recognition } from './pocketsphinx-ffi.js';
import type { DecoderSamples, EncodedAudio } from './utterance-audio.js';

export interface DecoderWorkerData {
  model: PocketSphinxModel;
  libraries: LibraryPaths;
  /** Longest audio accepted, in seconds. */
  maxAudioSeconds: number;
}

/** The audio's bytes are transferred, not copied. */
export interface DecodeTask {
  id: number;
  audio: EncodedAudio;
}

export interface DecodeResult {
  recognition: Recognition;
  /** Seconds of audio decoded. */
  duration: number;
  decodeMs: number;
  warnings: DecoderSamples['warnings'];
}

export type DecoderReply =
  | { type: 'ready'; initMs: number }
  | { type: 'init_failed'; message: string }
  | ({ type: 'result'; id: number } & DecodeResult)
  | { type: 'error'; id: number; status: number; code: ServiceErrorCode; message: string };
