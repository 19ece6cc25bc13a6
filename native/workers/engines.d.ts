/**
 * Types for the two native engines the audio worker loads; neither package ships its own. Only what
 * the worker uses is declared. Shapes follow sherpa-onnx-node 1.13 (`vad.js`, `resampler.js`,
 * `types.js`) and @evan/opus 1.0 (`wasm/index.js`).
 */

declare module 'sherpa-onnx-node' {
  export interface SileroVadModelConfig {
    model: string;
    threshold?: number;
    /** In seconds. */
    minSilenceDuration?: number;
    /** In seconds. */
    minSpeechDuration?: number;
    /** Samples per model call: 512 at 16 kHz. */
    windowSize?: number;
    /** In seconds. */
    maxSpeechDuration?: number;
  }

  export interface VadConfig {
    sileroVad: SileroVadModelConfig;
    sampleRate: number;
    numThreads?: number;
    provider?: string;
    debug?: boolean | number;
  }

  export interface SpeechSegment {
    /** Index of the first sample since the last reset. */
    start: number;
    samples: Float32Array;
  }

  export class Vad {
    constructor(config: VadConfig, bufferSizeInSeconds: number);
    acceptWaveform(samples: Float32Array): void;
    isEmpty(): boolean;
    isDetected(): boolean;
    pop(): void;
    front(enableExternalBuffer?: boolean): SpeechSegment;
    reset(): void;
    flush(): void;
    clear(): void;
  }

  export class LinearResampler {
    constructor(inputSampleRate: number, outputSampleRate: number);
    resample(samples: Float32Array): Float32Array;
    flush(samples: Float32Array): Float32Array;
    reset(): void;
  }

  const sherpa: { Vad: typeof Vad; LinearResampler: typeof LinearResampler; version: string };
  export default sherpa;
}

declare module '@evan/opus/wasm/index.mjs' {
  type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;

  export class Decoder {
    constructor(options: { channels: 1 | 2; sample_rate: OpusRate });
    /** A raw `opus_decoder_ctl`: with `value` it sets, without it gets. */
    ctl(cmd: number, value?: number): number;
    /** Interleaved pcm16 bytes of one packet; throws on an invalid packet. */
    decode(packet: ArrayBufferView): Uint8Array;
    /** Frees the decoder's memory in the WebAssembly heap. */
    drop(): void;
  }

  export class Encoder {
    constructor(options: { channels: 1 | 2; sample_rate: OpusRate; application: 'voip' | 'audio' | 'restricted_lowdelay' });
    ctl(cmd: number, value?: number): number;
    /** One packet from exactly one frame of interleaved pcm16. */
    encode(pcm: ArrayBufferView): Uint8Array;
    drop(): void;
  }
}
