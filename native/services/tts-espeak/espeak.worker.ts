/**
 * Worker-thread entry: loads eSpeak NG once and synthesises one text per task, off the HTTP
 * thread. Bundled as `espeak.worker.mjs`; the pool runs exactly one of these per process because
 * the library's synthesiser is global (see `espeak-ffi.ts`).
 */
import { serveTasks } from '../shared/worker-protocol.js';
import { EspeakSynthesizer } from './espeak-ffi.js';
import type { SynthResult, SynthTask } from './synth-messages.js';

serveTasks<SynthTask, SynthResult>('espeak-ng', () => {
  const synthesizer = EspeakSynthesizer.open();
  return ({ voice, text }) => {
    const samples = synthesizer.synthesize(voice, text);
    return { result: { samples, sampleRate: synthesizer.sampleRate }, transfer: [samples.buffer] };
  };
});
