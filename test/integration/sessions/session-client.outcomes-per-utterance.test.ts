/**
 * The session client adapter (what `linguamesh translate` speaks) against the real scheduler on a
 * FakeClock, with a scripted node: one outcome per utterance index, whatever order and kind the
 * node answers in — a result, an empty result the scheduler sends nothing for (settled by the
 * next index, §5.6, §8.1), a failure (`error` naming the index), and silence (settled by the
 * result timeout). A token-guarded scheduler refuses a client without the token; a scheduler that
 * goes away mid-translation fails it with SESSION_LINK_CLOSED.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_CLIENT_OPTIONS, openSession } from '../../../src/adapters/session-client-ws.adapter.js';
import type { OutgoingUtterance, SessionClient, UtteranceOutcome } from '../../../src/adapters/session-client-ws.adapter.js';
import { pcm16, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness, Message } from '../../support/dispatch-harness.js';
import { pumpUntil } from '../../support/hotplug-harness.js';

const RESULT_TIMEOUT_MS = 5_000;
const INIT = { client_version: 'test-cli', platform: 'cli', src_lang: 'en', tgt_lang: 'es', audio_format: 'pcm16', tts_format: 'pcm16' };
const UTTERANCE: OutgoingUtterance = { audioBase64: pcm16(200, 100), format: 'pcm16', sampleRate: 16_000 };

let t: DispatchHarness | undefined;
const clients: SessionClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await t?.stop();
  t = undefined;
});

async function open(authToken?: string): Promise<SessionClient> {
  const client = await openSession({ ...DEFAULT_SESSION_CLIENT_OPTIONS, url: t!.ws(''), authToken, resultTimeoutMs: RESULT_TIMEOUT_MS, clock: t!.clock }, INIT, new AbortController().signal);
  clients.push(client);
  return client;
}

/** Resolves what `promise` resolves to while moving fake time (the result timeout runs on it). */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await pumpUntil(t!.clock, () => done, 'translate() to settle', { stepMs: 100 });
  return promise;
}

describe('the session client', () => {
  it('settles every utterance once, in index order: empty, result, failed, timed out', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-C11E0001', { maxConcurrentJobs: 8 });
    const client = await open();
    expect(client.ack).toMatchObject({ session_id: expect.stringMatching(/^s-[0-9A-F]{8}$/), negotiated_audio_format: 'pcm16', negotiated_tts_format: 'pcm16' });
    const translating = client.translate([UTTERANCE, UTTERANCE, UTTERANCE, UTTERANCE], new AbortController().signal);
    const jobs: Message[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await node.nextAssign());
    expect(jobs.map((j) => [j.utterance_index, j.audio_format, j.sample_rate, j.is_manual_cut])).toEqual([0, 1, 2, 3].map((i) => [i, 'pcm16', 16_000, true]));
    // The node answers out of order; the scheduler says nothing at all about index 0.
    node.result(jobs[1]!, { text_asr: 'where is the station', text_translated: 'dónde está la estación', tts_format: 'pcm16' });
    node.result(jobs[2]!, { success: false, error: { code: 'PROCESSING_ERROR', message: 'audio could not be decoded', details: { stage: 'decode' } } });
    node.result(jobs[0]!, { text_asr: '', text_translated: '', tts_audio: '', extra: { reason: 'ASR_EMPTY' } });
    const outcomes = await settled(translating);
    expect(outcomes.map((o: UtteranceOutcome) => [o.index, o.kind])).toEqual([
      [0, 'empty'],
      [1, 'result'],
      [2, 'failed'],
      [3, 'timedOut'],
    ]);
    expect(outcomes[1]).toMatchObject({ result: { text_asr: 'where is the station', text_translated: 'dónde está la estación', service_timings: { asr_ms: 5, total_ms: 13 } }, roundTripMs: expect.any(Number) });
    expect(outcomes[2]).toMatchObject({ error: { code: 'PROCESSING_ERROR', details: { utterance_index: 2 } } });
  });

  it('resolves at once when every index is settled, with no wait for the timeout', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-C11E0002');
    const client = await open();
    const translating = client.translate([UTTERANCE, UTTERANCE], new AbortController().signal);
    const jobs = [await node.nextAssign(), await node.nextAssign()];
    const start = t.clock.now();
    node.result(jobs[0]!);
    node.result(jobs[1]!);
    const outcomes = await settled(translating);
    expect(outcomes.map((o) => o.kind)).toEqual(['result', 'result']);
    expect(t.clock.now() - start).toBeLessThan(RESULT_TIMEOUT_MS);
  });

  it('a token-guarded scheduler refuses a client without the token (UNAUTHORIZED) and accepts it with the token', async () => {
    t = await startDispatchHarness({ authToken: 'sekret' });
    await expect(open()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(open('sekret')).resolves.toMatchObject({ ack: { session_id: expect.any(String) } });
  });

  it('fails with SESSION_LINK_CLOSED when the scheduler goes away mid-translation', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-C11E0003');
    const client = await open();
    const translating = client.translate([UTTERANCE], new AbortController().signal);
    translating.catch(() => undefined);
    await node.nextAssign();
    await t.scheduler.stop();
    await expect(translating).rejects.toMatchObject({ code: 'SESSION_LINK_CLOSED' });
  });
});
