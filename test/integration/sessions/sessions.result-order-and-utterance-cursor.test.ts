/**
 * Results reach the client in utterance order (PROTOCOL.md §5.5–§5.6, §6.5; §12 items 30–31, the
 * scheduler half of 35): held results, the 30 s gap grace, max_pending_results, empty and silent
 * results, the one complete result after an empty one, and the `utterance` path's dispatch cursor
 * that lives as long as the session. Scripted node, FakeClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { opusSilence, pcm16, startDispatchHarness } from '../../support/dispatch-harness.js';
import type { DispatchHarness, Message, ScriptedNode, SessionClient } from '../../support/dispatch-harness.js';

let t: DispatchHarness | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const kinds = (messages: Message[]) => messages.map((m) => (m.type === 'translation_result' ? `result ${String(m.utterance_index)}` : m.type === 'missing_result' ? `missing ${String(m.utterance_index)} ${String(m.reason)}` : m.type === 'error' ? `error ${String(m.code)}` : m.type));

/** A session with `count` utterances dispatched to one node (max_concurrent_jobs 8). */
async function dispatched(count: number, options: Parameters<typeof startDispatchHarness>[0] = {}): Promise<{ node: ScriptedNode; session: SessionClient; jobs: Message[] }> {
  t = await startDispatchHarness(options);
  const node = await t.readyNode('node-00000001', { maxConcurrentJobs: 8 });
  const session = await t.openSession();
  const jobs: Message[] = [];
  for (let i = 0; i < count; i++) {
    session.chunk(opusSilence(5), true);
    jobs.push(await node.nextAssign());
  }
  expect(jobs.map((j) => j.utterance_index)).toEqual([...Array(count).keys()]);
  return { node, session, jobs };
}

describe('result order', () => {
  it('delivers results for 1 then 0 as 0 then 1; with 2 held above 1 for 30 s, 1 is declared missing and a late 1 is dropped (§12 item 30)', async () => {
    const { node, session, jobs } = await dispatched(4);
    node.result(jobs[1]!);
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
    node.result(jobs[0]!);
    expect(kinds([await session.next(), await session.next()])).toEqual(['result 0', 'result 1']);
    node.result(jobs[3]!);
    await node.sync();
    await t!.clock.advanceAsync(29_999);
    expect(kinds(await session.sync())).toEqual([]);
    await t!.clock.advanceAsync(1);
    const [missing, result] = [await session.next(), await session.next()];
    expect(missing).toMatchObject({ type: 'missing_result', session_id: session.sessionId, utterance_index: 2, reason: 'gap_timeout', created_at_ms: t!.clock.now() });
    expect(result).toMatchObject({ type: 'translation_result', utterance_index: 3 });
    node.result(jobs[2]!);
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
  });

  it('copies the result as §6.7 says: known extra keys only, tts_format pcm16 when the node sent none, service_timings from processing_time_ms', async () => {
    const { node, session, jobs } = await dispatched(2);
    node.result(jobs[0]!, { extra: { emotion: 'calm', secret: 'x', service_timings: { asr_ms: 1, nmt_ms: 2, tts_ms: 3, total_ms: 6 } }, quality_score: 0.9, asr_quality_level: 'good' });
    expect(await session.nextOfType('translation_result')).toEqual({
      type: 'translation_result',
      session_id: session.sessionId,
      job_id: jobs[0]!.job_id,
      trace_id: jobs[0]!.trace_id,
      utterance_index: 0,
      text_asr: 'text 0',
      text_translated: 'texto 0',
      tts_audio: 'AwD4//4=',
      tts_format: 'opus',
      extra: { emotion: 'calm', service_timings: { asr_ms: 1, nmt_ms: 2, tts_ms: 3, total_ms: 6 } },
      service_timings: { asr_ms: 1, nmt_ms: 2, tts_ms: 3, total_ms: 6 },
      scheduler_sent_at_ms: t!.clock.now(),
      asr_quality_level: 'good',
      quality_score: 0.9,
    });
    node.result(jobs[1]!, { tts_format: undefined, extra: undefined, text_translated: undefined, processing_time_ms: 42 });
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ tts_format: 'pcm16', text_translated: '', service_timings: { total_ms: 42 } });
  });

  it('resolves ASR_EMPTY silently so the next index goes out at once, and turns an empty success into missing_result silence_detected in order (§12 item 35)', async () => {
    const { node, session, jobs } = await dispatched(3);
    node.result(jobs[1]!);
    node.result(jobs[2]!, { text_asr: '', text_translated: '', tts_audio: '', extra: undefined });
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
    node.result(jobs[0]!, { text_asr: '', text_translated: '', tts_audio: '', extra: { reason: 'ASR_EMPTY' } });
    expect(kinds([await session.next(), await session.next()])).toEqual(['result 1', 'missing 2 silence_detected']);
    expect(kinds(await session.sync())).toEqual([]);
  });

  it('delivers one complete result that follows an empty one of the same attempt at once, and drops any further one (§5.5)', async () => {
    const { node, session, jobs } = await dispatched(2);
    node.result(jobs[0]!, { text_asr: '', text_translated: '', tts_audio: '', extra: { reason: 'ASR_EMPTY' } });
    await node.sync();
    node.result(jobs[0]!, { text_asr: 'where is the station' });
    await expect(session.nextOfType('translation_result')).resolves.toMatchObject({ utterance_index: 0, text_asr: 'where is the station' });
    node.result(jobs[0]!, { text_asr: 'once more' });
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
    // Past result_dedupe_ms even the first complete one would have been dropped.
    node.result(jobs[1]!, { text_asr: '', extra: { reason: 'NO_TEXT_ASSIGNED' } });
    await node.sync();
    await t!.clock.advanceAsync(30_001);
    node.result(jobs[1]!, { text_asr: 'too late' });
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
  });

  it('declares the gap missing at once when more than max_pending_results are held', async () => {
    const { node, session, jobs } = await dispatched(5, { maxPendingResults: 3 });
    for (const job of jobs.slice(1, 4)) node.result(job);
    await node.sync();
    expect(kinds(await session.sync())).toEqual([]);
    node.result(jobs[4]!);
    expect(kinds([await session.next(), await session.next(), await session.next(), await session.next(), await session.next()])).toEqual([
      'missing 0 pending_overflow_evict',
      'result 1',
      'result 2',
      'result 3',
      'result 4',
    ]);
  });
});

describe('utterance path', () => {
  it('dispatches utterances 0, 1 (after 0\'s result) and 2 in order, keeps the cursor, and ignores a repeated 1 (§12 item 31)', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-00000001');
    const session = await t.openSession();
    session.utterance(0, pcm16(100));
    const zero = await node.nextAssign();
    expect(zero).toMatchObject({ utterance_index: 0, audio_format: 'pcm16', sample_rate: 16_000, is_manual_cut: true, padding_ms: 280, audio: pcm16(100) });
    node.result(zero);
    await session.nextOfType('translation_result');
    // The queue drained; the cursor stays at 1 (§5.6 [fix]).
    session.utterance(1, pcm16(100), { manual_cut: false });
    const one = await node.nextAssign();
    expect(one).toMatchObject({ utterance_index: 1 });
    expect(one).not.toHaveProperty('is_manual_cut');
    expect(one).not.toHaveProperty('padding_ms');
    session.utterance(2, pcm16(100));
    await expect(node.nextAssign()).resolves.toMatchObject({ utterance_index: 2 });
    session.utterance(1, pcm16(100));
    await session.sync();
    expect((await node.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
  });

  it('holds an utterance above the cursor; after the gap grace the gap is skipped (declared missing, in order) and it is dispatched', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-00000001');
    const session = await t.openSession();
    session.utterance(2, pcm16(100));
    await session.sync();
    expect((await node.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    session.utterance(0, pcm16(100));
    const zero = await node.nextAssign();
    expect(zero).toMatchObject({ utterance_index: 0 });
    await t.clock.advanceAsync(29_999);
    expect((await node.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
    await t.clock.advanceAsync(1);
    const two = await node.nextAssign();
    expect(two).toMatchObject({ utterance_index: 2 });
    // Index 1 is missing, and reported in its place: after 0.
    node.result(two);
    node.result(zero);
    expect(kinds([await session.next(), await session.next(), await session.next()])).toEqual(['result 0', 'missing 1 gap_timeout', 'result 2']);
    session.utterance(1, pcm16(100));
    await session.sync();
    expect((await node.sync()).filter((m) => m.type === 'job_assign')).toEqual([]);
  });

  it('converts a wav utterance to pcm16 at the file\'s rate, and refuses another audio_format with INVALID_MESSAGE', async () => {
    t = await startDispatchHarness();
    const node = await t.readyNode('node-00000001');
    const session = await t.openSession();
    const samples = new Int16Array([1, -2, 3, -4]);
    const wav = Buffer.alloc(44 + 8);
    wav.write('RIFF', 0, 'ascii');
    wav.writeUInt32LE(36 + 8, 4);
    wav.write('WAVEfmt ', 8, 'ascii');
    wav.writeUInt32LE(16, 16);
    wav.writeUInt16LE(1, 20);
    wav.writeUInt16LE(1, 22);
    wav.writeUInt32LE(22_050, 24);
    wav.writeUInt32LE(44_100, 28);
    wav.writeUInt16LE(2, 32);
    wav.writeUInt16LE(16, 34);
    wav.write('data', 36, 'ascii');
    wav.writeUInt32LE(8, 40);
    Buffer.from(samples.buffer).copy(wav, 44);
    session.utterance(0, wav.toString('base64'), { audio_format: 'wav' });
    await expect(node.nextAssign()).resolves.toMatchObject({ audio_format: 'pcm16', sample_rate: 22_050, audio: Buffer.from(samples.buffer).toString('base64') });
    session.utterance(1, 'AAAA', { audio_format: 'flac' });
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringMatching(/^Invalid message format: audio_format/) });
    session.utterance(1, Buffer.from('not a wav').toString('base64'), { audio_format: 'wav' });
    await expect(session.nextOfType('error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', message: expect.stringContaining('RIFF') });
  });
});
