/** What the HTTP thread and the eSpeak worker exchange (through `shared/worker-protocol.ts`). */

export interface SynthTask {
  /**
   * eSpeak voice file (`gmw/en-US`), already resolved against the installed voices: the library's
   * espeak_SetVoiceByName loads files, not language tags (`en-gb` lives in `gmw/en`).
   */
  voice: string;
  text: string;
}

/** The samples' buffer is transferred back, not copied. */
export interface SynthResult {
  samples: Int16Array;
  sampleRate: number;
}
