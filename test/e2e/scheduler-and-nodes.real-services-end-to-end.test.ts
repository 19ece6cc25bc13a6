/**
 * The whole system on loopback, for real (issue "Jobs end to end"): a scheduler (`startScheduler`),
 * two whole nodes (`startNodeRole`) each running the three reference services — PocketSphinx ASR,
 * Apertium MT, eSpeak NG TTS, built with buildServiceDirectory and started by the node's services
 * runtime as OS processes — and a raw `ws` client. A flite fixture goes in as Opus Plan-A chunks
 * with `is_final`, and as whole `utterance`s (pcm16, wav); each comes back as a `translation_result`
 * with the English transcript, a Spanish translation and speech of a plausible length.
 *
 * Failover: each node reaches the scheduler through a relay. The relay of the node that starts the
 * job is cut mid-job (the scheduler sees that node's socket close); the job completes on the other
 * node as attempt 2; the first node's late result, replayed by its relay on a new connection,
 * reaches the scheduler and is dropped. One set of service processes serves the whole file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../native/services/shared/wav.js';
import { startAudioPool } from '../../src/adapters/audio-pool.adapter.js';
import type { AudioPool } from '../../src/adapters/audio-pool.adapter.js';
import { startNodeRole } from '../../src/cli/node-role.js';
import type { NodeRoleHandle } from '../../src/cli/node-role.js';
import { startScheduler } from '../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../src/cli/start-scheduler.js';
import type { BusEventOf } from '../../src/kernel/bus.js';
import { systemClock } from '../../src/kernel/clock.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { joinPlanA, splitPlanA } from '../../src/protocol/plan-a.js';
import { SessionClient } from '../support/dispatch-harness.js';
import type { Message } from '../support/dispatch-harness.js';
import { recordPid } from '../support/pids.js';
import { waitFor } from '../support/scripted-scheduler.js';
import { buildService, ENGINE_TEST_TIMEOUT_MS } from '../support/service-process.js';
import type { BuiltService } from '../support/service-process.js';
import { loadSpeechFixtures } from '../support/speech-fixtures.js';
import { wordErrorRate, words } from '../support/word-error-rate.js';
import { WsRelay } from '../support/ws-relay.js';

const fixtures = loadSpeechFixtures();
const SPEECH = { use_nmt: true, use_tts: true };
const built: BuiltService[] = [];
const dataDirs: string[] = [];
const nodes: NodeRoleHandle[] = [];
const relays: WsRelay[] = [];
const clients: SessionClient[] = [];
let scheduler: SchedulerHandle;
let encoder: AudioPool;

beforeAll(async () => {
  built.push(...(await Promise.all(['asr-pocketsphinx', 'mt-apertium', 'tts-espeak'].map((id) => buildService(id)))));
  scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: silentLogger(), allowCpuNodes: true, heartbeatIntervalMs: 250 });
  await scheduler.ready;
  for (const name of ['node-E2E0000A', 'node-E2E0000B']) {
    const relay = await WsRelay.start(`ws://127.0.0.1:${scheduler.port}/ws/node`);
    relays.push(relay);
    const dataDir = mkdtempSync(join(tmpdir(), 'lm-e2e-node-'));
    dataDirs.push(dataDir);
    writeFileSync(join(dataDir, 'node-identity.json'), JSON.stringify({ node_id: name }));
    nodes.push(
      await startNodeRole({
        schedulerUrl: relay.url,
        dataDir,
        httpPort: 0,
        allowCpuServices: true,
        heartbeatDebounceMs: 200,
        extraServiceDirs: built.map((b) => b.bundle.outDir),
        logger: silentLogger(),
      }),
    );
  }
  await waitFor(() => nodes.every((n) => n.services.registry.list().filter((s) => s.state === 'running').length === 3), 'services running', 60_000);
  for (const node of nodes) for (const service of node.services.registry.list()) recordPid(service.pid);
  await waitFor(() => scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: SPEECH }).length === 2, 'both nodes in en:es', 30_000);
  encoder = await startAudioPool({ maxThreads: 1 }, { logger: silentLogger(), clock: systemClock });
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(relays.map((r) => r.close()));
  await scheduler?.stop();
  await encoder?.close();
  built.forEach((b) => b.remove());
  dataDirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
}, ENGINE_TEST_TIMEOUT_MS);

async function session(init: Record<string, unknown> = {}): Promise<SessionClient> {
  const client = await SessionClient.connect(`ws://127.0.0.1:${scheduler.port}/ws/session`);
  clients.push(client);
  await client.init(init);
  return client;
}

const pcm16Of = (wav: Buffer): string => {
  const samples = readWav(wav).samples;
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
};

function expectTranslated(result: Message, text: string): void {
  expect(result.type, JSON.stringify(result).slice(0, 400)).toBe('translation_result');
  expect(wordErrorRate([{ reference: text, hypothesis: String(result.text_asr) }]).wer).toBeLessThanOrEqual(0.25);
  const spanish = String(result.text_translated);
  expect(words(spanish).length).toBeGreaterThan(0);
  expect(spanish).not.toBe(result.text_asr);
  expect(result.service_timings).toMatchObject({ asr_ms: expect.any(Number), nmt_ms: expect.any(Number), tts_ms: expect.any(Number), total_ms: expect.any(Number) });
}

describe('scheduler, two nodes and the reference services', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('Opus Plan-A chunks with is_final → English transcript, Spanish translation, Opus speech of a plausible length', async () => {
    const fixture = fixtures[0]!;
    const encoded = await encoder.encode({ audio: { kind: 'wav', bytes: new Uint8Array(fixture.wav) }, format: 'opus' }, new AbortController().signal);
    const packets = splitPlanA(encoded.bytes).packets;
    const client = await session();
    // 200 ms chunks, as a web client streams them, then the end of the utterance.
    for (let i = 0; i < packets.length; i += 10) client.chunk(joinPlanA(packets.slice(i, i + 10)).toString('base64'), false, i / 10);
    const cutAt = Date.now();
    client.chunk('', true);
    const result = await client.next((m) => m.type !== 'ui_event', 60_000);
    expectTranslated(result, fixture.text);
    expect(result).toMatchObject({ session_id: client.sessionId, utterance_index: 0, tts_format: 'opus', scheduler_sent_at_ms: expect.any(Number) });
    // Apertium's eng-spa says "dónde es la canal de tren": clumsy, but Spanish.
    expect(words(String(result.text_translated))).toEqual(expect.arrayContaining(['dónde', 'tren']));
    const speech = await encoder.decode({ bytes: Buffer.from(String(result.tts_audio), 'base64'), format: 'opus', sampleRate: 16_000 }, new AbortController().signal);
    expect(speech.durationMs).toBeGreaterThan(700);
    expect(speech.durationMs).toBeLessThan(6_000);
    console.log(`[e2e] "${String(result.text_asr)}" → "${String(result.text_translated)}", ${speech.durationMs} ms of speech, end of speech → result ${Date.now() - cutAt} ms, timings ${JSON.stringify(result.service_timings)}`);
  });

  it('the utterance path: pcm16 (with pcm16 speech back) and wav, in index order', async () => {
    const client = await session({ tts_format: 'pcm16' });
    client.utterance(0, pcm16Of(fixtures[1]!.wav));
    client.utterance(1, fixtures[2]!.wav.toString('base64'), { audio_format: 'wav' });
    const first = await client.next((m) => m.type !== 'ui_event', 60_000);
    const second = await client.next((m) => m.type !== 'ui_event', 60_000);
    expectTranslated(first, fixtures[1]!.text);
    expectTranslated(second, fixtures[2]!.text);
    expect([first.utterance_index, second.utterance_index]).toEqual([0, 1]);
    expect(first.tts_format).toBe('pcm16');
    const speechMs = Buffer.from(String(first.tts_audio), 'base64').byteLength / 32;
    expect(speechMs).toBeGreaterThan(700);
    expect(speechMs).toBeLessThan(6_000);
  });

  it('a node cut off mid-job: the job completes on the other node as attempt 2; the first node\'s late result is dropped', async () => {
    const assigned: BusEventOf<'dispatch.assigned'>[] = [];
    const dropped: BusEventOf<'dispatch.dropped'>[] = [];
    const offs = [scheduler.bus.subscribe('dispatch.assigned', (e) => assigned.push(e)), scheduler.bus.subscribe('dispatch.dropped', (e) => dropped.push(e))];
    let cut: WsRelay | undefined;
    for (const relay of relays) {
      relay.watch((frame) => {
        // Mid-job: the node has accepted the job and begun to process it.
        if (frame.type === 'job_started' && cut === undefined) {
          cut = relay;
          relay.cut();
        }
      });
    }
    const client = await session();
    client.utterance(0, pcm16Of(fixtures[3]!.wav));
    const result = await client.next((m) => m.type !== 'ui_event', 60_000);
    expectTranslated(result, fixtures[3]!.text);
    expect(cut).toBeDefined();
    const jobId = result.job_id;
    const attempts = assigned.filter((a) => a.jobId === jobId);
    expect(attempts.map((a) => a.attemptId)).toEqual([1, 2]);
    expect(attempts[0]!.nodeId).toBe(cut!.relayedNodeId);
    expect(attempts[1]!.nodeId).not.toBe(cut!.relayedNodeId);
    // The cut node finished its attempt all the same; its result was held by the relay.
    await waitFor(() => cut!.held.some((f) => f.type === 'job_result' && f.job_id === jobId), 'the first node\'s own result', 60_000);
    await cut!.replay();
    await waitFor(() => dropped.some((d) => d.jobId === jobId && d.messageType === 'job_result'), 'the late result dropped', 10_000);
    // The held job_started goes the same way as the result: both belong to the superseded attempt 1.
    const late = dropped.filter((d) => d.jobId === jobId);
    expect(late.map((d) => d.messageType)).toEqual(['job_started', 'job_result']);
    for (const d of late) expect(d).toMatchObject({ attemptId: 1, nodeId: cut!.relayedNodeId, reason: 'stale' });
    expect(await client.sync()).toEqual([]);
    offs.forEach((off) => off());
  });
});
