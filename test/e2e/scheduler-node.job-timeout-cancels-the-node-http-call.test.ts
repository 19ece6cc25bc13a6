/**
 * A job timeout reaches all the way down (PROTOCOL.md §2.11, §5.4): a whole node (`startNodeRole`,
 * real audio workers) whose ASR service reads every request and never answers. When the
 * scheduler's job timeout passes, `job_cancel {reason:"job_timeout"}` reaches the node, the node's
 * job stops without a result, and its HTTP call to the service is aborted — the service sees the
 * request go away. The scheduler runs on a FakeClock (the timeout is fake time); the node and the
 * services run in real time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../native/services/shared/wav.js';
import { startNodeRole } from '../../src/cli/node-role.js';
import type { NodeRoleHandle } from '../../src/cli/node-role.js';
import type { BusEvent } from '../../src/kernel/bus.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { LONG_LIVED, SessionClient } from '../support/dispatch-harness.js';
import { TEST_SERVICE_SCRIPT } from '../support/hotplug-harness.js';
import { recordPid } from '../support/pids.js';
import { waitFor } from '../support/scripted-scheduler.js';
import { ENGINE_TEST_TIMEOUT_MS } from '../support/service-process.js';
import { loadSpeechFixtures } from '../support/speech-fixtures.js';
import { startTestScheduler } from '../support/test-scheduler.js';
import type { TestScheduler } from '../support/test-scheduler.js';

const root = mkdtempSync(join(tmpdir(), 'lm-timeout-e2e-'));
let t: TestScheduler;
let node: NodeRoleHandle;
let client: SessionClient;
const nodeEvents: BusEvent[] = [];

/** A stand-in service of `type` (test/fixtures/services/test-service.mjs) in its own directory. */
function standIn(id: string, type: string, languages: unknown, env: Record<string, string> = {}): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'service.json'),
    JSON.stringify({
      id,
      name: id,
      version: '1.0.0',
      type,
      device: 'cpu',
      exec: { command: 'node', args: [TEST_SERVICE_SCRIPT] },
      env,
      health_check: { endpoint: '/health', interval_ms: 100, timeout_ms: 1_000 },
      startup_timeout_ms: 20_000,
      languages,
    }),
  );
  return dir;
}

async function requestsSeen(): Promise<{ received: number; aborted: number }> {
  const baseUrl = node.services.registry.get('asr-hangs')?.baseUrl;
  return (await fetch(`${baseUrl}/requests`)).json() as Promise<{ received: number; aborted: number }>;
}

beforeAll(async () => {
  t = await startTestScheduler({ ...LONG_LIVED, allowCpuNodes: true, heartbeatIntervalMs: 250, maxReassignments: 0 });
  const dirs = [
    standIn('asr-hangs', 'asr', { asr: ['en'] }, { TEST_HANG_REQUESTS: '1' }),
    standIn('nmt-stand-in', 'nmt', { nmt: [{ src: 'en', tgt: 'es' }] }),
    standIn('tts-stand-in', 'tts', { tts: ['es'], voices: { es: ['es'] } }),
  ];
  const dataDir = join(root, 'node');
  mkdirSync(dataDir);
  node = await startNodeRole({ schedulerUrl: `ws://127.0.0.1:${t.scheduler.port}`, dataDir, httpPort: 0, allowCpuServices: true, heartbeatDebounceMs: 200, extraServiceDirs: dirs, logger: silentLogger() });
  node.bus.subscribeAll((e) => nodeEvents.push(e));
  await waitFor(() => node.services.registry.list().filter((s) => s.state === 'running').length === 3, 'stand-in services running', 30_000);
  for (const service of node.services.registry.list()) recordPid(service.pid);
  await waitFor(() => t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: true, use_tts: true } }).length === 1, 'node in en:es', 30_000);
  client = await SessionClient.connect(t.ws('/ws/session'));
  await client.init();
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await client?.close();
  await node?.stop();
  await t?.stop();
  rmSync(root, { recursive: true, force: true });
}, ENGINE_TEST_TIMEOUT_MS);

describe('job timeout', () => {
  it('cancels the node\'s attempt: job_cancel reaches the node, its job ends without a result, the service sees its request aborted', async () => {
    const samples = readWav(loadSpeechFixtures()[0]!.wav).samples;
    client.utterance(0, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64'));
    // Real speech passes the VAD, so the job calls the ASR service, which holds the request.
    await waitFor(() => nodeEvents.some((e) => e.type === 'job.assigned'), 'job on the node', 20_000);
    let seen = { received: 0, aborted: 0 };
    await waitFor(() => seen.received === 1, 'the ASR call', 20_000, async () => (seen = await requestsSeen()));
    expect(seen.aborted).toBe(0);
    expect(node.status().runningJobs).toBe(1);
    await t.clock.advanceAsync(60_000);
    await waitFor(() => nodeEvents.some((e) => e.type === 'job.finished'), 'the job to end', 10_000);
    const cancel = nodeEvents.find((e): e is Extract<BusEvent, { type: 'link.jobCancelled' }> => e.type === 'link.jobCancelled');
    expect(cancel?.message).toMatchObject({ type: 'job_cancel', reason: 'job_timeout', attempt_id: 1 });
    expect(nodeEvents.find((e) => e.type === 'job.finished')).toMatchObject({ success: false, code: 'CANCELLED' });
    await waitFor(() => seen.aborted === 1, 'the service to see the abort', 10_000, async () => (seen = await requestsSeen()));
    expect(nodeEvents.filter((e) => e.type === 'link.send' && e.message.type === 'job_result')).toEqual([]);
    expect(node.status().runningJobs).toBe(0);
    // No node is left to try (max_reassignments 0 here): the client is told.
    await expect(client.next()).resolves.toMatchObject({ type: 'error', code: 'JOB_TIMEOUT', details: { utterance_index: 0 } });
  }, ENGINE_TEST_TIMEOUT_MS);
});
