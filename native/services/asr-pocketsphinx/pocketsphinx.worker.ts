/**
 * Worker-thread entry: loads PocketSphinx once (at start) and then decodes one utterance per
 * message, so the blocking native call never stalls the HTTP thread. Bundled on its own as
 * `pocketsphinx.worker.mjs` next to `server.mjs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PocketSphinxDecoder } from './pocketsphinx-ffi.js';
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
  if (!decoder) {
    reply({ type: 'error', id: task.id, message: 'decoder failed to load' });
    return;
  }
  const begun = performance.now();
  try {
    const recognition = decoder.decode(task.samples);
    reply({ type: 'result', id: task.id, recognition, decodeMs: performance.now() - begun });
  } catch (err) {
    reply({ type: 'error', id: task.id, message: err instanceof Error ? err.message : String(err) });
  }
});
