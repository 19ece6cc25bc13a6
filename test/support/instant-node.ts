/**
 * A whole node in this process (`startNode`: link, heartbeats, jobs runtime, control endpoint) on
 * the real clock, whose services and audio workers are instant fakes: a registry with a running
 * ASR (en), NMT (en→es) and TTS (es), the passthrough audio port, and a scripted speech port whose
 * ASR reads the first two samples of the utterance as a label (`s<a> u<b>`). Its jobs go through
 * the real job machine, the real link and the real scheduler; only the speech work is instant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../../native/services/shared/wav.js';
import { createJobsRuntime } from '../../src/cli/jobs-runtime.js';
import { startNode } from '../../src/cli/start-node.js';
import type { NodeHandle } from '../../src/cli/start-node.js';
import { createBus } from '../../src/kernel/bus.js';
import type { Bus } from '../../src/kernel/bus.js';
import { silentLogger } from '../../src/kernel/logger.js';
import type { AudioPort } from '../../src/kernel/ports/audio.port.js';
import { FakeHardware } from '../fakes/hardware.fake.js';
import { PassthroughAudio } from '../fakes/passthrough-audio.fake.js';
import { FakeServiceRegistry } from '../fakes/service-registry.fake.js';
import { FakeSpeech } from '../fakes/speech.fake.js';
import { STANDARD_SERVICES } from './jobs-harness.js';

export interface InstantNode {
  node: NodeHandle;
  bus: Bus;
  speech: FakeSpeech;
  nodeId(): string | undefined;
  stop(): Promise<void>;
}

/** pcm16 of `ms` milliseconds whose first two samples are the label `a`, `b`. */
export function labelledPcm16(a: number, b: number, ms = 40): Buffer {
  const samples = new Int16Array(ms * 16);
  samples[0] = a;
  samples[1] = b;
  return Buffer.from(samples.buffer);
}

/** `audio: 'pool'`: the real audio workers (decode + Silero VAD, one thread) instead of the passthrough port. */
export async function startInstantNode(
  schedulerUrl: string | readonly string[],
  options: { maxConcurrentJobs?: number; audio?: AudioPort | 'pool'; reconnectMinMs?: number; reconnectMaxMs?: number } = {},
): Promise<InstantNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lm-instant-node-'));
  const bus = createBus();
  const registry = new FakeServiceRegistry(bus, STANDARD_SERVICES);
  const speech = new FakeSpeech();
  speech.script('asr-1', (call) => {
    const audio = new Uint8Array(Buffer.from((call.request as { audio: string }).audio, 'base64'));
    const pcm = new Int16Array(audio.buffer, 0, Math.floor(audio.byteLength / 2));
    return { text: `s${pcm[0] ?? -1} u${pcm[1] ?? -1}`, language: 'en' };
  });
  // 100 ms of a 220 Hz tone at 22 050 Hz: a WAV the real audio workers encode.
  const tone = new Int16Array(2_205).map((_, i) => Math.round(8_000 * Math.sin((2 * Math.PI * 220 * i) / 22_050)));
  speech.script('tts-1', () => ({ kind: 'wav', bytes: new Uint8Array(writeWav(tone, 22_050)) }));
  const audio = options.audio === 'pool' ? undefined : (options.audio ?? new PassthroughAudio());
  const node = startNode({
    schedulerUrl,
    dataDir,
    httpPort: 0,
    bus,
    logger: silentLogger(),
    hardware: new FakeHardware(),
    services: { registry },
    maxConcurrentJobs: options.maxConcurrentJobs ?? 4,
    ...(options.reconnectMinMs !== undefined ? { reconnectMinMs: options.reconnectMinMs } : {}),
    ...(options.reconnectMaxMs !== undefined ? { reconnectMaxMs: options.reconnectMaxMs } : {}),
    jobs: (context) => createJobsRuntime({ ...context, speech, ...(audio ? { audio } : { audioPool: { maxThreads: 1 } }) }),
  });
  await node.ready;
  return {
    node,
    bus,
    speech,
    nodeId: () => node.status().link.nodeId,
    stop: async () => {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
