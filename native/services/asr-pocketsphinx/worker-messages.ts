/**
 * Messages between the HTTP thread and a decoder worker. Both sides are our own code on a hot path,
 * so they share these types instead of re-parsing (STYLE.md §6).
 */
import type { LibraryPaths, PocketSphinxModel, Recognition } from './pocketsphinx-ffi.js';

export interface DecoderWorkerData {
  model: PocketSphinxModel;
  libraries: LibraryPaths;
}

/** 16 kHz mono samples; the buffer is transferred, not copied. */
export interface DecodeTask {
  id: number;
  samples: Int16Array;
}

export type DecoderReply =
  | { type: 'ready'; initMs: number }
  | { type: 'init_failed'; message: string }
  | { type: 'result'; id: number; recognition: Recognition; decodeMs: number }
  | { type: 'error'; id: number; message: string };
