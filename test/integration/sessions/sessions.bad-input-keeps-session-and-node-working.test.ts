/**
 * Bad input on the session link (PROTOCOL.md §1.3, §1.5, §6, §7.4): corrupt Opus, base64 that is
 * not base64, an unknown session, audio for a closed session and a 20 MB frame each get the answer
 * PROTOCOL.md gives them — and afterwards the same session and the same node still turn real speech
 * into a result. The node is whole and in this process, with the real audio workers (Opus decode,
 * Silero VAD) and instant fake speech services.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../../native/services/shared/wav.js';
import { startScheduler } from '../../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../../src/cli/start-scheduler.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { joinPlanA } from '../../../src/protocol/plan-a.js';
import { SessionClient } from '../../support/dispatch-harness.js';
import { startInstantNode } from '../../support/instant-node.js';
import type { InstantNode } from '../../support/instant-node.js';
import { waitFor } from '../../support/scripted-scheduler.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';

let scheduler: SchedulerHandle;
let node: InstantNode;
let session: SessionClient;
const speech = (() => {
  const samples = readWav(loadSpeechFixtures()[0]!.wav).samples;
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
})();

beforeAll(async () => {
  scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: silentLogger(), heartbeatIntervalMs: 100 });
  await scheduler.ready;
  node = await startInstantNode(`ws://127.0.0.1:${scheduler.port}`, { audio: 'pool' });
  await waitFor(() => scheduler.registry.list().some((n) => n.status === 'ready'), 'a ready node', 20_000);
  session = await SessionClient.connect(`ws://127.0.0.1:${scheduler.port}/ws/session`);
  await session.init();
}, 30_000);

afterAll(async () => {
  await session?.close();
  await node?.stop();
  await scheduler?.stop();
});

let index = 0;
/** Real speech as an utterance of this session: it must come back as a result. */
async function stillWorks(): Promise<void> {
  session.utterance(index, speech);
  await expect(session.next()).resolves.toMatchObject({ type: 'translation_result', utterance_index: index, text_asr: expect.stringMatching(/^s-?\d+ u-?\d+$/) });
  index += 1;
}

describe('bad input', () => {
  it('corrupt Opus: the node refuses the audio, the client gets PROCESSING_ERROR for that index', async () => {
    const corrupt = joinPlanA(Array.from({ length: 20 }, () => new Uint8Array([0xff, 0xff, 0xff]))).toString('base64');
    session.chunk(corrupt, true);
    await expect(session.next()).resolves.toMatchObject({ type: 'error', code: 'PROCESSING_ERROR', details: { job_id: expect.any(String), utterance_index: 0 } });
    index = 1;
    await stillWorks();
  }, 20_000);

  it('wrong base64: an empty chunk on audio_chunk (no job, no error); the node refuses it in an opus/pcm16 utterance; INVALID_MESSAGE for a wav utterance', async () => {
    session.chunk('%%% not base64 %%%', true);
    expect(await session.sync()).toEqual([]);
    session.utterance(index, '%%% not base64 %%%');
    await expect(session.next()).resolves.toMatchObject({ type: 'error', code: 'PROCESSING_ERROR', details: { utterance_index: index } });
    index += 1;
    session.utterance(index, '%%% not base64 %%%', { audio_format: 'wav' });
    await expect(session.next()).resolves.toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', message: expect.stringMatching(/^Invalid message format: audio/) });
    await stillWorks();
  }, 20_000);

  it('an unknown session: INVALID_SESSION; a closed one: SESSION_CLOSED', async () => {
    session.send({ type: 'audio_chunk', session_id: 's-DEADBEEF', seq: 1, is_final: true, payload: '' });
    await expect(session.next()).resolves.toEqual({ type: 'error', code: 'INVALID_SESSION', message: 'Session does not exist', details: { session_id: 's-DEADBEEF' } });
    const other = await SessionClient.connect(`ws://127.0.0.1:${scheduler.port}/ws/session`);
    await other.init();
    other.send({ type: 'session_close', session_id: other.sessionId, reason: 'bye' });
    await other.nextOfType('session_close_ack');
    other.chunk(speech, true);
    await expect(other.next()).resolves.toMatchObject({ type: 'error', code: 'SESSION_CLOSED', details: { session_id: other.sessionId } });
    // Another socket's session does not exist for this one.
    session.send({ type: 'client_heartbeat', session_id: other.sessionId, timestamp: 1 });
    await expect(session.next()).resolves.toMatchObject({ type: 'error', code: 'INVALID_SESSION' });
    await other.close();
    await stillWorks();
  }, 20_000);

  it('a 20 MB frame: INVALID_MESSAGE naming its size, the socket stays open', async () => {
    const frame = JSON.stringify({ type: 'audio_chunk', session_id: session.sessionId, seq: 1, is_final: true, payload: 'A'.repeat(20 * 1024 * 1024) });
    session.send(frame);
    await expect(session.next(undefined, 20_000)).resolves.toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', message: expect.stringContaining(`frame of ${Buffer.byteLength(frame)} bytes`) });
    await stillWorks();
  }, 30_000);
});
