/**
 * The session link (PROTOCOL.md §6.1–§6.6; §12 items 32–33): codec negotiation, segmentation of
 * `audio_chunk` by pause, manual cut, duration and size (with turns), the TTS playback window, the
 * heartbeat, `session_close`, a re-init, and the idle timeout. Scripted node, FakeClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LinkClient } from '../../support/node-link-client.js';
import { opusSilence, pcm16, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness, Message, ScriptedNode, SessionClient } from '../../support/dispatch-harness.js';
import { joinPlanA } from '../../../src/protocol/plan-a.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const assigns = (messages: Message[]) => messages.filter((m) => m.type === 'job_assign');

async function withNode(init: Record<string, unknown> = {}, options: Parameters<typeof startDispatchHarness>[0] = {}): Promise<{ node: ScriptedNode; session: SessionClient }> {
  t = await startDispatchHarness(options);
  const node = await t.readyNode('node-00000001', { maxConcurrentJobs: 8 });
  return { node, session: await t.openSession(init) };
}

/** 200 ms chunks of Opus silence (10 packets each). */
function speak(session: SessionClient, ms: number): void {
  for (let i = 0; i < ms / 200; i++) session.chunk(opusSilence(10), false, i);
}

describe('session_init', () => {
  it('negotiates opus 16 kHz mono by default, pcm16 when asked, opus for anything else (§12 item 33)', async () => {
    t = await startDispatchHarness();
    const session = await LinkClient.connect(t.ws('/ws/session'));
    const init = { type: 'session_init', client_version: 'web-1', platform: 'web', src_lang: 'en', tgt_lang: 'es' };
    session.send(init);
    const ack = await session.nextOfType('session_init_ack');
    expect(ack).toEqual({
      type: 'session_init_ack',
      session_id: expect.stringMatching(/^s-[0-9A-F]{8}$/),
      message: 'session created',
      trace_id: expect.stringMatching(UUID),
      protocol_version: '1.0',
      use_binary_frame: false,
      negotiated_codec: 'opus',
      negotiated_audio_format: 'opus',
      negotiated_sample_rate: 16_000,
      negotiated_channel_count: 1,
    });
    session.send({ ...init, audio_format: 'pcm16', tts_format: 'wav', trace_id: 'trace-1' });
    await expect(session.nextOfType('session_init_ack')).resolves.toMatchObject({ negotiated_codec: 'pcm16', negotiated_audio_format: 'pcm16', negotiated_tts_format: 'wav', trace_id: 'trace-1' });
    session.send({ ...init, audio_format: 'flac', tts_format: 'mp3' });
    await expect(session.nextOfType('session_init_ack')).resolves.toMatchObject({ negotiated_codec: 'opus', negotiated_tts_format: 'opus' });
    await session.close();
  });

  it('puts the session\'s settings into each job_assign: languages, mode, streaming, tts_format, trace', async () => {
    const { node, session } = await withNode({ tts_format: 'pcm16', enable_streaming_asr: false, features: { emotion_detection: true }, trace_id: 'trace-7' });
    session.chunk(opusSilence(10), true);
    const job = await node.nextAssign();
    expect(job).toMatchObject({
      session_id: session.sessionId,
      trace_id: 'trace-7',
      src_lang: 'en',
      tgt_lang: 'es',
      mode: 'one_way',
      features: { emotion_detection: true },
      pipeline: { use_asr: true, use_nmt: true, use_tts: true },
      audio_format: 'opus',
      sample_rate: 16_000,
      enable_streaming_asr: false,
      partial_update_interval_ms: 1000,
      tts_format: 'pcm16',
    });
  });

  it('answers a second session_init by closing the first session: its id then gets SESSION_CLOSED', async () => {
    const { session } = await withNode();
    const first = session.sessionId;
    await session.init();
    expect(session.sessionId).not.toBe(first);
    session.send({ type: 'client_heartbeat', session_id: first, timestamp: 1 });
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'SESSION_CLOSED' });
  });
});

describe('segmentation of audio_chunk', () => {
  it('finalizes 200 ms chunks 3 000 ms after the last one: is_timeout_triggered, padding 220 (§12 item 32)', async () => {
    const { node, session } = await withNode();
    speak(session, 1_000);
    await session.sync();
    await t!.clock.advanceAsync(2_999);
    expect(assigns(await node.sync())).toEqual([]);
    await t!.clock.advanceAsync(1);
    const job = await node.nextAssign();
    expect(job).toMatchObject({ utterance_index: 0, is_timeout_triggered: true, padding_ms: 220, audio: joinPlanA(Array.from({ length: 50 }, () => new Uint8Array([0xf8, 0xff, 0xfe]))).toString('base64') });
    expect(job).not.toHaveProperty('is_manual_cut');
    expect(job).not.toHaveProperty('turn_id');
  });

  it('finalizes on {"is_final":true,"payload":""}: is_manual_cut, padding 280; an is_final on an empty buffer makes no job and keeps the index (§12 item 32)', async () => {
    const { node, session } = await withNode();
    speak(session, 600);
    session.send({ type: 'audio_chunk', session_id: session.sessionId, seq: 9, is_final: true, payload: '' });
    await expect(node.nextAssign()).resolves.toMatchObject({ utterance_index: 0, is_manual_cut: true, padding_ms: 280 });
    session.chunk('', true);
    await session.sync();
    expect(assigns(await node.sync())).toEqual([]);
    speak(session, 200);
    session.chunk('', true);
    await expect(node.nextAssign()).resolves.toMatchObject({ utterance_index: 1 });
  });

  it('cuts at 10 000 ms with is_max_duration_triggered and a turn_id that the next manual job repeats, then clears (§12 item 32)', async () => {
    const { node, session } = await withNode();
    speak(session, 10_000);
    const long = await node.nextAssign();
    expect(long).toMatchObject({ utterance_index: 0, is_max_duration_triggered: true, padding_ms: 220, turn_id: expect.stringMatching(UUID) });
    speak(session, 400);
    session.chunk('', true);
    const rest = await node.nextAssign();
    expect(rest).toMatchObject({ utterance_index: 1, is_manual_cut: true, turn_id: long.turn_id });
    speak(session, 400);
    session.chunk('', true);
    expect(await node.nextAssign()).not.toHaveProperty('turn_id');
  });

  it('cuts a buffer over max_buffer_bytes (500 KiB) with no flags and no padding', async () => {
    const { node, session } = await withNode();
    // 420 packets of 1 275 bytes: 8.4 s of audio, 536 KiB framed.
    const big = joinPlanA(Array.from({ length: 420 }, () => new Uint8Array(1_275).fill(7))).toString('base64');
    session.chunk(big);
    const job = await node.nextAssign();
    expect(job).toMatchObject({ utterance_index: 0 });
    for (const flag of ['is_manual_cut', 'is_timeout_triggered', 'is_max_duration_triggered', 'padding_ms']) expect(job).not.toHaveProperty(flag);
  });

  it('measures pcm16 chunks by bytes: 10 000 ms of pcm16 is a duration cut', async () => {
    const { node, session } = await withNode({ audio_format: 'pcm16' });
    for (let i = 0; i < 20; i++) session.chunk(pcm16(500));
    await expect(node.nextAssign()).resolves.toMatchObject({ audio_format: 'pcm16', is_max_duration_triggered: true });
  });

  it('suspends the pause while TTS plays and counts it again from tts_play_ended', async () => {
    const { node, session } = await withNode();
    speak(session, 400);
    session.send({ type: 'tts_started', session_id: session.sessionId, trace_id: 'x', group_id: '', ts_start_ms: 1 });
    await session.sync();
    await t!.clock.advanceAsync(20_000);
    expect(assigns(await node.sync())).toEqual([]);
    session.send({ type: 'tts_play_ended', session_id: session.sessionId, trace_id: 'x', ts_end_ms: 2 });
    await session.sync();
    await t!.clock.advanceAsync(2_999);
    expect(assigns(await node.sync())).toEqual([]);
    await t!.clock.advanceAsync(1);
    await expect(node.nextAssign()).resolves.toMatchObject({ is_timeout_triggered: true });
  });

  it('treats a payload that is not base64 as an empty chunk: no error, no job', async () => {
    const { node, session } = await withNode();
    session.chunk('!!! not base64 !!!', true);
    expect(await session.sync()).toEqual([]);
    expect(assigns(await node.sync())).toEqual([]);
  });
});

describe('heartbeat, close and idle', () => {
  it('answers client_heartbeat with server_heartbeat at server time', async () => {
    const { session } = await withNode();
    session.send({ type: 'client_heartbeat', session_id: session.sessionId, timestamp: 5 });
    await expect(session.nextOfType('server_heartbeat')).resolves.toEqual({ type: 'server_heartbeat', session_id: session.sessionId, timestamp: t!.clock.now() });
  });

  it('session_close finalizes buffered audio, acks, still delivers the result, then answers SESSION_CLOSED', async () => {
    const { node, session } = await withNode();
    speak(session, 400);
    session.send({ type: 'session_close', session_id: session.sessionId, reason: 'done' });
    const job = await node.nextAssign();
    expect(job).toMatchObject({ is_timeout_triggered: true, padding_ms: 220 });
    await expect(session.nextOfType('session_close_ack')).resolves.toEqual({ type: 'session_close_ack', session_id: session.sessionId });
    node.result(job);
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ utterance_index: 0 });
    session.chunk(opusSilence(10));
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'SESSION_CLOSED' });
    expect((await t!.getJson<{ sessions: number }>('/api/v1/dispatch')).body.sessions).toBe(0);
  });

  it('closes a session idle for 300 s with error SESSION_CLOSED "Session closed: idle timeout", keeps the socket, and counts heartbeats as activity (§6.6)', async () => {
    const { session } = await withNode();
    await t!.clock.advanceAsync(299_000);
    session.send({ type: 'client_heartbeat', session_id: session.sessionId, timestamp: 1 });
    await session.nextOfType('server_heartbeat');
    await t!.clock.advanceAsync(299_999);
    expect(await session.sync()).toEqual([]);
    await t!.clock.advanceAsync(1);
    await expect(session.nextOfType('error')).resolves.toEqual({ type: 'error', code: 'SESSION_CLOSED', message: 'Session closed: idle timeout', details: { session_id: session.sessionId } });
    session.chunk(opusSilence(10));
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'SESSION_CLOSED' });
    // The socket is still served: a new session works.
    await session.init();
  });

  it('does not count a session with a job in flight as idle', async () => {
    const { node, session } = await withNode({}, { jobTimeoutMs: 3_600_000 });
    session.chunk(opusSilence(10), true);
    const job = await node.nextAssign();
    await t!.clock.advanceAsync(300_000);
    expect((await session.sync()).filter((m) => m.type === 'error')).toEqual([]);
    node.result(job);
    await session.nextOfType('translation_result');
    await t!.clock.advanceAsync(300_000);
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'SESSION_CLOSED' });
  });
});
