/**
 * SIGTERM stops a service gracefully: it stops accepting, lets the work in flight finish within its
 * shutdown timeout and exits 0; work that outlives the timeout is dropped, and the engine processes
 * it started die with the service (none is left behind, and its scratch directory is gone).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pcm16ToBytes } from '../../../native/services/shared/pcm16.js';
import { readWav } from '../../../native/services/shared/wav.js';
import { ENGINE_TEST_TIMEOUT_MS, buildService, postJson, startService } from '../../support/service-process.js';
import type { BuiltService, RunningService } from '../../support/service-process.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';

/** Bound on each real wait below (a request reaching the engine, processes going away), in ms. */
const WAIT_MS = 30_000;

const cleanups: (() => void | Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function started(id: string, env: Record<string, string>): Promise<RunningService> {
  const built: BuiltService = await buildService(id);
  cleanups.push(() => built.remove());
  const service = await startService(built.bundle, { env });
  cleanups.push(() => service.stop());
  return service;
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function inFlight(service: RunningService): Promise<number> {
  const health = (await (await fetch(`${service.baseUrl}/health`)).json()) as { in_flight?: number };
  return health.in_flight ?? 0;
}

/** Pids of processes whose environment carries `marker` (the service and everything it started). */
function processesWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

describe('services stop gracefully on SIGTERM', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('asr-pocketsphinx finishes the decode in flight, answers it, then exits 0', async () => {
    // A generous shutdown timeout: this decode must finish however loaded the machine is.
    const service = await started('asr-pocketsphinx', { ASR_WORKERS: '1', SERVICE_SHUTDOWN_TIMEOUT_MS: '30000' });
    const samples = loadSpeechFixtures()
      .slice(0, 2)
      .flatMap((f) => [...readWav(f.wav).samples]);
    const request = postJson<{ text: string }>(service.baseUrl, '/utterance', {
      job_id: 'long',
      src_lang: 'en',
      audio: pcm16ToBytes(Int16Array.from(samples)).toString('base64'),
      audio_format: 'pcm16',
      sample_rate: 16_000,
    });
    await until('the decode to start', async () => (await inFlight(service)) === 1);
    service.child.kill('SIGTERM');
    const answer = await request;
    expect(answer.status).toBe(200);
    expect(answer.body.text).toContain('train station');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`${service.baseUrl}/health`)).rejects.toThrow();
  });

  it('mt-apertium drops work that outlives the shutdown timeout and kills its apertium processes', async () => {
    const marker = `LINGUAMESH_TEST_MARKER_${randomUUID()}`;
    const scratchParent = mkdtempSync(join(tmpdir(), 'linguamesh-sigterm-'));
    cleanups.push(() => rmSync(scratchParent, { recursive: true, force: true }));
    const service = await started('mt-apertium', { [marker]: '1', TMPDIR: scratchParent, SERVICE_SHUTDOWN_TIMEOUT_MS: '200', MT_MAX_TEXT_CHARS: '200000' });
    const text = 'The children play in the park and the dog sleeps in the garden. '.repeat(1_500);
    const request = postJson(service.baseUrl, '/v1/translate', { src_lang: 'en', tgt_lang: 'es', text }).catch((err: unknown) => err);
    const servicePid = service.child.pid;
    // Apertium's pipeline (a shell and its stages) is running once processes besides the service carry the marker.
    await until('apertium to run', () => processesWithMarker(marker).filter((pid) => pid !== servicePid).length >= 2);
    service.child.kill('SIGTERM');
    expect(await service.exited).toEqual({ code: 0, signal: null });
    await request;
    await until('the engine processes to die', () => processesWithMarker(marker).length === 0);
    expect(readdirSync(scratchParent)).toEqual([]);
  });
});
