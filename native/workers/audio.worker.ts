/**
 * Piscina worker entry of the node's audio pool (STYLE.md §9): decode → 16 kHz, Silero VAD trim,
 * and TTS encoding. The VAD model is loaded once per thread, here at module scope; every task then
 * runs synchronously on this thread. Bad input comes back as a typed failure (`ok: false`); only a
 * bug or a dying engine makes a task reject. Buffers in replies are moved, not copied.
 */
import { existsSync } from 'node:fs';
import { threadId, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import sherpa from 'sherpa-onnx-node';
import type { AudioReplies, AudioTask, AudioTaskResult, AudioWorkerConfig } from '../../src/adapters/audio-worker.types.js';
import type { MonoPcm, Pcm16k } from './pcm-convert.js';
import { checkSampleRate, durationMs, int16View, to16k, TARGET_RATE } from './pcm-convert.js';
import { decodePlanA, encodePlanA, FRAME_MS } from './plan-a-opus.js';
import { parseWav, writeWav } from './riff-wav.js';
import { trimToSpeech, VAD_WINDOW_SAMPLES } from './speech-trim.js';
import { TaskRefusal } from './task-refusal.js';

const config = workerData as AudioWorkerConfig;

// sherpa-onnx accepts a missing model file and crashes later, and a corrupt one aborts the process;
// the adapter checks the file's sha256 before any worker starts, and this check keeps a missing file
// from reaching the native code at all.
if (!existsSync(config.vadModelPath)) throw new Error(`Silero VAD model not found at ${config.vadModelPath}`);

const vad = new sherpa.Vad(
  {
    sileroVad: {
      model: config.vadModelPath,
      threshold: config.vadThreshold,
      minSilenceDuration: config.vadMinSilenceMs / 1000,
      minSpeechDuration: config.vadMinSpeechMs / 1000,
      windowSize: VAD_WINDOW_SAMPLES,
      maxSpeechDuration: 20,
    },
    sampleRate: TARGET_RATE,
    numThreads: 1,
    provider: 'cpu',
    debug: false,
  },
  30,
);

interface Decoded {
  pcm: Pcm16k;
  warnings: AudioReplies['decode']['warnings'];
}

function decode(bytes: Uint8Array, format: string, sampleRate: number): Decoded {
  switch (format) {
    case 'opus': {
      const { i16, warnings } = decodePlanA(bytes);
      return { pcm: { i16 }, warnings };
    }
    case 'pcm16':
      checkSampleRate(sampleRate);
      return { pcm: to16k({ i16: int16View(bytes), sampleRate }), warnings: [] };
    case 'wav': {
      const { pcm, warnings } = parseWav(bytes);
      return { pcm: to16k(pcm), warnings };
    }
    default:
      throw new TaskRefusal('unsupported_format', `audio format "${format}" is not opus, pcm16 or wav`, { format });
  }
}

function trim(pcm: Pcm16k, paddingMs: number) {
  const trimmed = trimToSpeech(vad, pcm, {
    padBeforeMs: config.speechPadBeforeMs,
    padAfterMs: config.speechPadAfterMs,
    appendSilenceMs: paddingMs,
  });
  return { ...trimmed, inputSamples: pcm.i16.length };
}

function encode(task: Extract<AudioTask, { op: 'encode' }>): AudioReplies['encode'] {
  const source: MonoPcm = task.input.kind === 'wav'
    ? parseWav(task.input.bytes).pcm
    : task.input.samples instanceof Int16Array
      ? { i16: task.input.samples, sampleRate: task.input.sampleRate }
      : { f32: task.input.samples, sampleRate: task.input.sampleRate };
  const { i16 } = to16k(source);
  switch (task.format) {
    case 'opus': {
      const { bytes, packets } = encodePlanA(i16, { bitrateBps: config.opusBitrateBps, complexity: config.opusComplexity });
      return { bytes, durationMs: packets * FRAME_MS };
    }
    case 'pcm16':
      return { bytes: new Uint8Array(i16.buffer, i16.byteOffset, i16.byteLength), durationMs: durationMs(i16.length) };
    case 'wav':
      return { bytes: writeWav(i16, TARGET_RATE), durationMs: durationMs(i16.length) };
    default:
      throw new TaskRefusal('unsupported_format', `audio format "${task.format}" is not opus, pcm16 or wav`, { format: task.format });
  }
}

function run(task: AudioTask): AudioReplies[AudioTask['op']] {
  switch (task.op) {
    case 'ping':
      return { threadId };
    case 'decode': {
      const { pcm, warnings } = decode(task.bytes, task.format, task.sampleRate);
      return { pcm: pcm.i16, warnings };
    }
    case 'detectSpeech':
      return trim({ i16: task.pcm }, task.paddingMs);
    case 'prepare': {
      const { pcm, warnings } = decode(task.bytes, task.format, task.sampleRate);
      return { ...trim(pcm, task.paddingMs), warnings };
    }
    case 'encode':
      return encode(task);
    default: {
      const never: never = task;
      throw new Error(`unknown audio task ${JSON.stringify(never)}`);
    }
  }
}

/** The buffers of a reply, handed back to Piscina so they are moved to the caller, not copied. */
function buffersOf(reply: object): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of Object.values(reply)) {
    if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) buffers.add(value.buffer);
  }
  return [...buffers];
}

export default function audioTask(task: AudioTask): unknown {
  let result: AudioTaskResult;
  try {
    result = { ok: true, value: run(task) };
  } catch (error) {
    if (!(error instanceof TaskRefusal)) throw error;
    const code = task.op === 'encode' ? 'AUDIO_ENCODE_FAILED' : 'AUDIO_DECODE_FAILED';
    return { ok: false, code, message: error.message, details: { reason: error.reason, ...error.extra } } satisfies AudioTaskResult;
  }
  const transfer = result.ok ? buffersOf(result.value) : [];
  return move({ [transferableSymbol]: transfer, [valueSymbol]: result });
}
