/**
 * Pools end to end (PROTOCOL.md §5.1–§5.2; §12 items 22–23): a heartbeat that changes a ready
 * node's services moves it between pools while that heartbeat is handled, so `/api/v1/pools`
 * shows it as soon as the scheduler answered the next message on the same socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../../src/kernel/bus.js';
import { heartbeatFrame } from '../../support/node-frames.js';
import type { NodeServices } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const SPEECH = { use_nmt: true, use_tts: true };
const TEXT = { use_nmt: true, use_tts: false };

async function readyNode(services: NodeServices = {}) {
  const node = await t!.registerNode({}, services);
  const seq = { next: 1 };
  for (let i = 0; i < 3; i++) node.client.send(heartbeatFrame(node.nodeId, seq.next++, services));
  await node.client.nextOfType('node_status');
  return { ...node, seq };
}

async function pools(pipeline: 'speech' | 'text' = 'speech') {
  return (await t!.getJson<{ pools: Record<string, string[]> }>(`/api/v1/pools?pipeline=${pipeline}`)).body.pools;
}

describe('pools', () => {
  it('puts a ready node with ASR [en], NMT en→es, TTS [es] in en:es and not in es:en (§12 item 22)', async () => {
    t = await startTestScheduler();
    const { nodeId } = await readyNode();
    expect(await pools()).toEqual({ 'en:es': [nodeId] });
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: SPEECH })).toEqual([nodeId]);
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'es', tgt: 'en', pipeline: SPEECH })).toEqual([]);
  });

  it('has no pools for a node that is not ready yet', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    client.send(heartbeatFrame(nodeId, 1));
    await client.sync();
    expect(await pools()).toEqual({});
  });

  it('hot-plug: a heartbeat that stops TTS takes the node out of speech pools in that heartbeat, keeps it for use_tts false, and a later one brings it back (§12 item 22)', async () => {
    t = await startTestScheduler();
    const { client, nodeId, seq } = await readyNode();
    const events: BusEvent[] = [];
    t.scheduler.bus.subscribe('pool.membershipChanged', (e) => events.push(e));

    client.send(heartbeatFrame(nodeId, seq.next++, { stopped: ['tts'] }));
    // Degrades only after 3 unhealthy heartbeats: the node is still ready, yet out of en:es for speech.
    expect(await client.sync()).toEqual([]);
    expect(await pools('speech')).toEqual({});
    expect(await pools('text')).toEqual({ 'en:es': [nodeId] });
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: TEXT })).toEqual([nodeId]);
    expect(events).toEqual([{ type: 'pool.membershipChanged', nodeId, pools: [], textPools: ['en:es'] }]);

    client.send(heartbeatFrame(nodeId, seq.next++));
    await client.sync();
    expect(await pools('speech')).toEqual({ 'en:es': [nodeId] });
  });

  it('takes a node out of every pool when it stops being ready and puts it back when ready again', async () => {
    t = await startTestScheduler();
    const { client, nodeId, seq } = await readyNode();
    // Unhealthy only through gpu_percent out of [0, 100]: the services, and so the pairs, stay.
    const overloaded = { resource_usage: { cpu_percent: 1, mem_percent: 1, gpu_percent: 140, running_jobs: 0 } };
    for (let i = 0; i < 2; i++) client.send(heartbeatFrame(nodeId, seq.next++, {}, overloaded));
    expect(await client.sync()).toEqual([]);
    expect(await pools('text')).toEqual({ 'en:es': [nodeId] });
    client.send(heartbeatFrame(nodeId, seq.next++, {}, overloaded));
    expect((await client.sync()).map((m) => m.status)).toEqual(['degraded']);
    expect(await pools('text')).toEqual({});
    client.send(heartbeatFrame(nodeId, seq.next++));
    expect((await client.sync()).map((m) => m.status)).toEqual(['ready']);
    expect(await pools('text')).toEqual({ 'en:es': [nodeId] });
  });

  it('pairs a Lingua node (no nmt_pairs) as asr × semantic, and does not recompute on a reordered report (§12 item 23)', async () => {
    t = await startTestScheduler();
    const lingua: NodeServices = { asr: ['zh', 'en'], tts: ['zh', 'en'], semantic: ['zh', 'en'], nmt: 'lingua' };
    const { client, nodeId, seq } = await readyNode(lingua);
    expect(await pools()).toEqual({ 'en:zh': [nodeId], 'zh:en': [nodeId] });
    const changes: BusEvent[] = [];
    t.scheduler.bus.subscribe('node.capabilitiesChanged', (e) => changes.push(e));
    t.scheduler.bus.subscribe('pool.membershipChanged', (e) => changes.push(e));
    client.send(heartbeatFrame(nodeId, seq.next++, { asr: ['en', 'zh'], tts: ['en', 'zh'], semantic: ['en', 'zh'], nmt: 'lingua' }));
    await client.sync();
    expect(changes).toEqual([]);
  });

  it('normalizes language codes: zh-CN and en-US report the pool zh:en', async () => {
    t = await startTestScheduler();
    const { nodeId } = await readyNode({ asr: ['zh-CN'], nmt: ['zh-cn:en-us'], tts: ['en-US'] });
    expect(await pools()).toEqual({ 'zh:en': [nodeId] });
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'zh-TW', tgt: 'en', pipeline: SPEECH })).toEqual([nodeId]);
  });

  it('admits a node to a two-way session only when it serves both directions', async () => {
    t = await startTestScheduler();
    const oneWay = await readyNode();
    const both = await readyNode({ asr: ['en', 'es'], nmt: ['en:es', 'es:en'], tts: ['en', 'es'] });
    const twoWay = { mode: 'two_way' as const, langA: 'en', langB: 'es', pipeline: SPEECH };
    expect(t.scheduler.registry.eligibleNodes(twoWay)).toEqual([both.nodeId]);
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: SPEECH }).sort()).toEqual([oneWay.nodeId, both.nodeId].sort());
  });

  it('answers same-language and no-translation jobs by the rule itself (§5.2 rule 3)', async () => {
    t = await startTestScheduler();
    const { nodeId } = await readyNode({ asr: ['en'], nmt: ['en:es'], tts: ['en', 'es'] });
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'en', pipeline: SPEECH })).toEqual([nodeId]);
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: false, use_tts: true } })).toEqual([nodeId]);
    expect(t.scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'es', tgt: 'en', pipeline: { use_nmt: false, use_tts: true } })).toEqual([]);
  });

  it('rejects an unknown pipeline name on /api/v1/pools', async () => {
    t = await startTestScheduler();
    expect((await t.getJson('/api/v1/pools?pipeline=video')).status).toBe(400);
  });
});
