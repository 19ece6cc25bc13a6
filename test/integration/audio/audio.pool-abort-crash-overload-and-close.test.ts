import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../../src/adapters/audio-pool.adapter.js';
import { FakeClock, flushIo, systemClock } from '../../../src/kernel/clock.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { AUDIO_FAULTS_CHANNEL } from '../../fixtures/workers/audio-faults.channel.js';
import { sine, wavBytes } from '../../support/audio-fixtures.js';

const FAULTY_WORKER = new URL('../../fixtures/workers/audio-faults.worker.ts', import.meta.url).href;
const deps = { logger: silentLogger(), clock: systemClock };
const never = new AbortController().signal;

const fault = (kind: 'HANG' | 'EXIT') => new Uint8Array(Buffer.from(`${kind} and then some pcm16 bytes`));
const goodWav = () => wavBytes({ sampleRate: 16_000, samples: sine(440, 16_000, 0.1) });

// One channel for the whole file; each hang() waits for the next announcement on it.
const announcements = new BroadcastChannel(AUDIO_FAULTS_CHANNEL);
let onHang: (() => void) | undefined;
announcements.onmessage = () => onHang?.();
afterAll(() => announcements.close());

/** Resolves when a fixture worker announces that it is blocked in a HANG task. */
function nextHang(): Promise<void> {
  return new Promise((resolve) => (onHang = resolve));
}

/** Starts a task that blocks its thread; resolves once it is running (wrapped: an async function would adopt it). */
async function hang(pool: AudioPool, signal: AbortSignal): Promise<{ task: Promise<unknown> }> {
  const announced = nextHang();
  const task = pool.decode({ bytes: fault('HANG'), format: 'pcm16', sampleRate: 16_000 }, signal);
  task.catch(() => undefined);
  await announced;
  return { task };
}

describe('a pool of one thread with a queue of one', () => {
  let pool: AudioPool;
  const controllers: AbortController[] = [];
  const controller = () => {
    const c = new AbortController();
    controllers.push(c);
    return c;
  };

  beforeAll(async () => {
    pool = await startAudioPool({ maxThreads: 1, maxQueue: 1, workerFilename: FAULTY_WORKER }, deps);
  });
  afterEach(() => {
    for (const c of controllers.splice(0)) c.abort();
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('rejects a running task aborted through its signal with ABORTED, and the next task runs on a new thread', async () => {
    const c = controller();
    const { task: running } = await hang(pool, c.signal);
    c.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED', retryable: false });
    await expect(pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never)).resolves.toMatchObject({ durationMs: 100 });
  });

  it('rejects a queued task aborted through its signal with ABORTED, without disturbing the running one', async () => {
    const first = controller();
    const { task: running } = await hang(pool, first.signal);
    const second = controller();
    const queued = pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, second.signal);
    second.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pool.inFlight).toBe(1);
    first.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('refuses a task whose signal has already aborted, without taking its buffer', async () => {
    const c = new AbortController();
    c.abort();
    const bytes = goodWav();
    await expect(pool.decode({ bytes, format: 'wav', sampleRate: 0 }, c.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(bytes.byteLength).toBeGreaterThan(0);
  });

  it('fails the task of a worker that dies with a retryable AUDIO_WORKER_FAILED, and the next task succeeds', async () => {
    const failure = pool.decode({ bytes: fault('EXIT'), format: 'pcm16', sampleRate: 16_000 }, never);
    await expect(failure).rejects.toMatchObject({ code: 'AUDIO_WORKER_FAILED', retryable: true });
    await expect(pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never)).resolves.toMatchObject({ durationMs: 100 });
  });

  it('refuses work beyond the running thread and the queue with a retryable AUDIO_OVERLOADED', async () => {
    const c = controller();
    const { task: running } = await hang(pool, c.signal);
    const queued = pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, c.signal);
    queued.catch(() => undefined);
    const refused = pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never);
    await expect(refused).rejects.toMatchObject({ code: 'AUDIO_OVERLOADED', retryable: true, details: { inFlight: 2, limit: 2 } });
    c.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never)).resolves.toMatchObject({ durationMs: 100 });
  });

  it('moves a buffer that owns its memory to the worker, and copies a slice of a shared one', async () => {
    const owned = goodWav();
    await pool.decode({ bytes: owned, format: 'wav', sampleRate: 0 }, never);
    expect(owned.byteLength).toBe(0);
    // Small Buffers share Node's allocation pool; moving that pool would detach its neighbours.
    const pooled = Buffer.from(goodWav().subarray(0, 300));
    const neighbour = Buffer.from('still here');
    expect(pooled.buffer).toBe(neighbour.buffer);
    await pool.decode({ bytes: pooled, format: 'pcm16', sampleRate: 16_000 }, never);
    expect(pooled.byteLength).toBe(300);
    expect(neighbour.toString()).toBe('still here');
  });
});

describe('closing', () => {
  it('lets running work finish, then stops; a second close() is the same close', async () => {
    const clock = new FakeClock();
    const pool = await startAudioPool({ maxThreads: 1, closeTimeoutMs: 5_000 }, { ...deps, clock });
    const running = pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never);
    const closed = pool.close();
    expect(pool.close()).toBe(closed);
    await expect(running).resolves.toMatchObject({ durationMs: 100 });
    await closed;
    await expect(pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 0 }, never)).rejects.toMatchObject({ code: 'AUDIO_POOL_CLOSED', retryable: false });
  });

  it('terminates a task still running after closeTimeoutMs, which rejects with AUDIO_POOL_CLOSED', async () => {
    const clock = new FakeClock();
    const pool = await startAudioPool({ maxThreads: 1, closeTimeoutMs: 5_000, workerFilename: FAULTY_WORKER }, { ...deps, clock });
    const { task: running } = await hang(pool, never);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await flushIo();
    expect(closed).toBe(false);
    await expect(pool.encode({ audio: { kind: 'wav', bytes: goodWav() }, format: 'opus' }, never)).rejects.toMatchObject({ code: 'AUDIO_POOL_CLOSED' });
    await clock.advanceAsync(4_999);
    expect(closed).toBe(false);
    await clock.advanceAsync(1);
    await closing;
    await expect(running).rejects.toMatchObject({ code: 'AUDIO_POOL_CLOSED', retryable: false });
  });
});

describe('starting', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'linguamesh-audio-start-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to start without the VAD model', async () => {
    await expect(startAudioPool({ vadModelPath: join(dir, 'missing.onnx') }, deps)).rejects.toMatchObject({ code: 'VAD_MODEL_MISSING' });
  });

  it('refuses to start with a model whose checksum is wrong, before any worker loads it', async () => {
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, 'not an onnx model');
    await expect(startAudioPool({ vadModelPath: corrupt }, deps)).rejects.toMatchObject({ code: 'VAD_MODEL_INVALID' });
  });

  it('sizes itself from the CPU count when not told: half the cores, at least one thread', async () => {
    const pool = await startAudioPool({}, deps);
    try {
      expect(pool.threads).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
      // Every thread works: as many tasks as threads at once all succeed.
      const decoded = await Promise.all(Array.from({ length: pool.threads }, () => pool.decode({ bytes: goodWav(), format: 'wav', sampleRate: 16_000 }, never)));
      expect(decoded.map((d) => d.durationMs)).toEqual(Array.from({ length: pool.threads }, () => 100));
    } finally {
      await pool.close();
    }
  });

  it('refuses invalid options', async () => {
    await expect(startAudioPool({ maxThreads: 0 }, deps)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
