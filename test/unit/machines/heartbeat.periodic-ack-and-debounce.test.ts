import { createActor, initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { heartbeatDebounceMachine } from '../../../src/machines/heartbeat-debounce.machine.js';
import { startHeartbeatHarness } from '../../support/heartbeat-harness.js';

describe('heartbeat: periodic and after the ack (PROTOCOL.md §3.2)', () => {
  it('§12 item 12: ack at t=0 → heartbeat at t=0, then every 15 000 ms from socket open', async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    h.ack();
    await h.at(60_000);
    expect(h.times()).toEqual([0, 15_000, 30_000, 45_000, 60_000]);
    expect(h.triggers()).toEqual(['ack', 'periodic', 'periodic', 'periodic', 'periodic']);
    expect(h.errors).toEqual([]);
  });

  it('ticks before the ack are skipped; the timer keeps its phase from socket open', async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    await h.at(20_000);
    expect(h.sent).toEqual([]);
    h.ack();
    await h.at(46_000);
    expect(h.times()).toEqual([20_000, 30_000, 45_000]);
    expect(h.triggers()).toEqual(['ack', 'periodic', 'periodic']);
  });

  it("adopts the ack's heartbeat_interval_ms", async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    h.ack('node-3F2A9C1B', 10_000);
    await h.at(30_000);
    expect(h.times()).toEqual([0, 10_000, 20_000, 30_000]);
  });

  it('sends nothing while disconnected; seq grows by one across reconnects, with one epoch', async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    h.ack();
    await h.at(15_000);
    h.disconnect();
    await h.at(50_000);
    expect(h.times()).toEqual([0, 15_000]);
    h.connect();
    h.ack();
    await h.at(65_000);
    expect(h.times()).toEqual([0, 15_000, 50_000, 65_000]);
    expect(h.sent.map((s) => s.message.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(h.sent.map((s) => s.message.epoch))).toEqual(new Set(['epoch-1']));
    expect(h.actor.nextSeq()).toBe(5);
  });

  it('a restarted heartbeat actor picks up the live registration at once and continues the seq', async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    h.ack();
    await h.at(1_000);
    h.ref.stop();
    const spec = h.actor.childSpec();
    const fresh = createActor(spec.logic, { clock: h.clock, input: spec.input });
    const detach = spec.attach?.(fresh);
    fresh.start();
    await h.at(16_000);
    expect(h.times()).toEqual([0, 1_000, 16_000]);
    expect(h.sent.map((s) => s.message.seq)).toEqual([1, 2, 3]);
    fresh.stop();
    if (typeof detach === 'function') detach();
  });

  it('the payload is the current report, resource sample and running jobs', async () => {
    let jobs = 2;
    const h = await startHeartbeatHarness({ runningJobs: () => jobs });
    h.registry.set({ id: 'asr-en', type: 'asr', state: 'running', languages: ['en'] });
    h.registry.set({ id: 'lex', type: 'lexicon', state: 'running' });
    h.connect();
    h.ack('node-00000007');
    await h.at(0);
    expect(h.sent[0]!.message).toMatchObject({
      node_id: 'node-00000007',
      timestamp: h.clock.now(),
      resource_usage: { cpu_percent: 23.5, mem_percent: 58.1, gpu_percent: 41, gpu_mem_percent: 12.5, running_jobs: 2 },
      installed_services: [{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }],
      capability_by_type: [{ type: 'asr', ready: true, ready_impl_ids: ['asr-en'] }],
      language_capabilities: { asr_languages: ['en'], tts_languages: [], nmt_pairs: [], semantic_languages: [], semantic_core_ready: false },
    });
    jobs = 0;
    h.registry.setState('asr-en', 'failed', 'exited with code 1');
    await h.at(2_000);
    expect(h.sent[1]!.message.installed_services).toEqual([{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'error', last_error: 'exited with code 1' }]);
    expect(h.sent[1]!.message.resource_usage.running_jobs).toBe(0);
  });
});

describe('heartbeat debouncer (§3.2 "On change")', () => {
  async function registeredAt0() {
    const h = await startHeartbeatHarness();
    h.connect();
    h.ack();
    await h.at(0);
    return h;
  }
  const debounced = (h: Awaited<ReturnType<typeof registeredAt0>>) => h.sent.filter((s) => s.trigger === 'debounced').map((s) => s.at);

  it('one change → one heartbeat 2 s later', async () => {
    const h = await registeredAt0();
    await h.at(3_000);
    h.change();
    await h.at(4_999);
    expect(debounced(h)).toEqual([]);
    await h.at(10_000);
    expect(debounced(h)).toEqual([5_000]);
  });

  it('10 changes within 1.5 s → one heartbeat 2 s after the last', async () => {
    const h = await registeredAt0();
    for (let t = 1_000; t <= 2_500; t += 1_500 / 9) {
      await h.at(Math.round(t));
      h.change();
    }
    await h.at(14_000);
    expect(debounced(h)).toEqual([4_500]);
  });

  it('changes 3 s apart → two heartbeats', async () => {
    const h = await registeredAt0();
    await h.at(1_000);
    h.change();
    await h.at(4_000);
    h.change();
    await h.at(14_000);
    expect(debounced(h)).toEqual([3_000, 6_000]);
  });

  it('§12 item 13: changes at t=1 000 and t=2 500 → one extra heartbeat, at t=4 500; the periodic cadence is kept', async () => {
    const h = await registeredAt0();
    await h.at(1_000);
    h.change();
    await h.at(2_500);
    h.change();
    await h.at(30_000);
    expect(h.times()).toEqual([0, 4_500, 15_000, 30_000]);
    expect(h.triggers()).toEqual(['ack', 'debounced', 'periodic', 'periodic']);
  });

  it('package installs and uninstalls count as changes', async () => {
    const h = await registeredAt0();
    await h.at(1_000);
    h.bus.publish({ type: 'package.installed', serviceId: 'tts-es', version: '1.0.0' });
    await h.at(6_000);
    h.bus.publish({ type: 'package.uninstalled', serviceId: 'tts-es', version: '1.0.0' });
    await h.at(10_000);
    expect(debounced(h)).toEqual([3_000, 8_000]);
  });

  it('a burst that settles while not registered sends nothing; the ack heartbeat carries the news', async () => {
    const h = await startHeartbeatHarness();
    h.connect();
    await h.at(1_000);
    h.change();
    await h.at(5_000);
    expect(h.sent).toEqual([]);
    h.ack();
    await h.at(5_000);
    expect(h.triggers()).toEqual(['ack']);
    expect(h.sent[0]!.message.installed_services).toHaveLength(1);
  });

  it('pure transitions: a change arms the wait, each further change restarts it, quiet time fires once', () => {
    const [idle] = initialTransition(heartbeatDebounceMachine, { debounceMs: 2_000 });
    expect(idle.value).toBe('idle');
    const [waiting, armActions] = transition(heartbeatDebounceMachine, idle, { type: 'debounce.changed' });
    expect(waiting.value).toBe('waiting');
    expect(waiting.context.changes).toBe(1);
    expect(armActions).toContainEqual(expect.objectContaining({ type: 'xstate.raise', params: expect.objectContaining({ delay: 2_000 }) }));
    const [again, rearmActions] = transition(heartbeatDebounceMachine, waiting, { type: 'debounce.changed' });
    expect(again.context.changes).toBe(2);
    // Re-entering cancels the pending timer and schedules a new one.
    expect(rearmActions.map((a) => a.type)).toEqual(expect.arrayContaining(['xstate.cancel', 'xstate.raise']));
  });
});
