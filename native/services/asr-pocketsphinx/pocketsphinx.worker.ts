/**
 * Worker-thread entry: loads PocketSphinx once, then for each task turns the request's audio into
 * 16 kHz samples and decodes it, so neither the blocking native call nor audio conversion ever
 * stalls the HTTP thread. Bundled on its own as `pocketsphinx.worker.mjs` next to `server.mjs`.
 */
import { workerData } from 'node:worker_threads';
import { serveTasks } from '../shared/worker-protocol.js';
import { PocketSphinxDecoder } from './pocketsphinx-ffi.js';
import { DECODER_SAMPLE_RATE, toDecoderSamples } from './utterance-audio.js';
import type { DecodeResult, DecodeTask, DecoderWorkerData } from './worker-messages.js';

const data = workerData as DecoderWorkerData;

serveTasks<DecodeTask, DecodeResult>('pocketsphinx', () => {
  const decoder = PocketSphinxDecoder.open(data.model, data.libraries);
  return (audio) => {
    const begun = performance.now();
    const { samples, warnings } = toDecoderSamples(audio, data.maxAudioSeconds);
    const recognition = decoder.decode(samples);
    return { result: { recognition, duration: samples.length / DECODER_SAMPLE_RATE, decodeMs: performance.now() - begun, warnings } };
  };
});
