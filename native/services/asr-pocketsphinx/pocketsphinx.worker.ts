/**
 * Worker-thread entry: loads PocketSphinx once (at start), then turns each task's audio into 16 kHz
 * samples and decodes it, so neither the blocking native call nor audio conversion ever stalls the
 * HTTP thread. Bundled on its own as `pocketsphinx.worker.mjs` next to `server.mjs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isServiceError } from '../shared/service-error.js';
import { PocketSphinxDecoder } from './pocketsphinx-ffi.js';
import { DECODER_SAMPLE_RATE, toDecoderSamples } from './utterance-audio.js';
import type { DecodeTask, DecoderReply, DecoderWorkerData } from './worker-messages.js';

const port = parentPort;
if (!port) throw new Error('pocketsphinx.worker must run in a worker thread');
const reply = (message: DecoderReply): void => port.postMessage(message);
const data = workerData as DecoderWorkerData;

let decoder: PocketSphinxDecoder | undefined;
const started = performance.now();
try {
  decoder = PocketSphinxDecoder.open(data.model, data.libraries);
  reply({ type: 'ready', initMs: performance.now() - started });
} catch (err) {
  reply({ type: 'init_failed', message: err instanceof Error ? err.message : String(err) });
}

port.on('message', (task: DecodeTask) => {
  const begun = performance.now();
  try {
    if (!decoder) throw new Error('decoder failed to load');
    const { samples, warnings } = toDecoderSamples(task.audio, data.maxAudioSeconds);
    const recognition = decoder.decode(samples);
    reply({ type: 'result', id: task.id, recognition, duration: samples.length / DECODER_SAMPLE_RATE, decodeMs: performance.now() - begun, warnings });
  } catch (err) {
    // A ServiceError (bad audio) keeps its status and code across the thread boundary.
    if (isServiceError(err)) reply({ type: 'error', id: task.id, status: err.status, code: err.code, message: err.message });
    else reply({ type: 'error', id: task.id, status: 500, code: 'ENGINE_FAILED', message: `pocketsphinx: ${err instanceof Error ? err.message : String(err)}` });
  }
});
