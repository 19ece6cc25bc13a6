import { describe, expect, it } from 'vitest';
import { backoffBaseMs } from '../../../src/kernel/backoff.js';
import type { NodeHeartbeat } from '../../../src/protocol/node-link.schema.js';
import { FakeHardware } from '../../fakes/hardware.fake.js';
import { ack, startLinkHarness } from '../../support/link-harness.js';

const heartbeat: NodeHeartbeat = {
  type: 'node_heartbeat',
  node_id: 'node-3F2A9C1B',
  timestamp: 1,
  resource_usage: { cpu_percent: 0, mem_percent: 0, running_jobs: 0 },
  installed_services: [],
  capability_by_type: [],
};

const base = (n: number) => backoffBaseMs(n, { minMs: 5_000, maxMs: 60_000 });

describe('link: registration (PROTOCOL.md §3.1)', () => {
  it('sends only node_register before the ack; other messages wait for the ack or are dropped', async () => {
    const h = await startLinkHarness();
    expect(h.state()).toBe('connecting');
    h.bus.publish({ type: 'link.send', message: heartbeat });
    await h.open();
    expect(h.state()).toBe('registering');
    h.bus.publish({ type: 'link.send', message: heartbeat });
    expect(h.port.last.sent.map((m) => m.type)).toEqual(['node_register']);
    expect(h.port.last.sent[0]).not.toHaveProperty('node_id');
    expect(h.of('link.sendDropped').map((e) => e.reason)).toEqual(['not_registered', 'not_registered']);

    h.port.last.deliver(ack());
    await h.clock.advanceAsync(0);
    expect(h.state()).toBe('registered');
    h.bus.publish({ type: 'link.send', message: heartbeat });
    expect(h.port.last.sent.map((m) => m.type)).toEqual(['node_register', 'node_heartbeat']);
    expect(h.of('link.registered')).toEqual([{ type: 'link.registered', nodeId: 'node-3F2A9C1B', schedulerUrl: 'ws://127.0.0.1:1/ws/node' }]);
    expect(h.store.saves).toEqual(['node-3F2A9C1B']);
    expect(h.errors).toEqual([]);
  });

  it('re-sends the persisted node_id, and keeps the assigned one across reconnects', async () => {
    const h = await startLinkHarness({ nodeId: 'node-00000001', random: () => 0 });
    await h.open();
    expect(h.port.last.sent[0]).toMatchObject({ type: 'node_register', node_id: 'node-00000001', epoch: 'epoch-1' });
    h.port.last.deliver(ack('node-00000001'));
    await h.clock.advanceAsync(0);
    // The same id is not written again.
    expect(h.store.saves).toEqual([]);
    h.port.last.fail(1006);
    await h.clock.advanceAsync(5_000);
    expect(h.port.connections).toHaveLength(2);
    await h.open();
    expect(h.port.last.sent[0]).toMatchObject({ node_id: 'node-00000001' });
  });

  it('mirrors node_status in registered sub-states; offline closes and reconnects; job messages only while registered', async () => {
    const h = await startLinkHarness({ random: () => 0 });
    await h.open();
    const jobAssign = { type: 'job_assign', job_id: 'job-1', attempt_id: 1, session_id: 's-1', trace_id: 't', utterance_index: 0, src_lang: 'en', tgt_lang: 'es', pipeline: { use_asr: true, use_nmt: true, use_tts: true }, audio: '', audio_format: 'opus', sample_rate: 16000 } as const;
    // §3.1 step 8: ignored before the ack.
    h.port.last.deliver(jobAssign);
    await h.clock.advanceAsync(0);
    expect(h.of('link.jobAssigned')).toEqual([]);
    h.port.last.deliver(ack());
    h.port.last.deliver({ type: 'node_status', node_id: 'node-3F2A9C1B', status: 'ready', reason: 'healthy_heartbeats', timestamp: 1 });
    await h.clock.advanceAsync(0);
    expect(h.ref.getSnapshot().matches({ connection: { session: { registered: 'ready' } } })).toBe(true);
    expect(h.of('link.stateChanged').at(-1)).toMatchObject({ state: 'registered', schedulerStatus: 'ready', schedulerReason: 'healthy_heartbeats' });
    h.port.last.deliver({ type: 'node_status', node_id: 'node-3F2A9C1B', status: 'degraded', reason: null, timestamp: 2 });
    h.port.last.deliver(jobAssign);
    h.port.last.deliver({ type: 'job_cancel', job_id: 'job-1', reason: 'job_timeout' });
    h.port.last.deliver({ type: 'node_control', command: 'drain' });
    h.port.last.deliver({ type: 'node_error', code: 'INVALID_MESSAGE', message: 'bad heartbeat', details: { reason: 'NODE_ID_MISMATCH' } });
    await h.clock.advanceAsync(0);
    expect(h.ref.getSnapshot().matches({ connection: { session: { registered: 'degraded' } } })).toBe(true);
    expect(h.of('link.jobAssigned').map((e) => e.message.job_id)).toEqual(['job-1']);
    expect(h.of('link.jobCancelled').map((e) => e.message.reason)).toEqual(['job_timeout']);
    expect(h.of('link.control').map((e) => e.message.command)).toEqual(['drain']);
    // §2.4: after the ack an error is informational; the node stays registered.
    expect(h.of('link.nodeError')).toEqual([{ type: 'link.nodeError', code: 'INVALID_MESSAGE', message: 'bad heartbeat', details: { reason: 'NODE_ID_MISMATCH' } }]);
    expect(h.state()).toBe('registered');

    const first = h.port.last;
    first.deliver({ type: 'node_status', node_id: 'node-3F2A9C1B', status: 'offline', reason: 'heartbeat_timeout', timestamp: 3 });
    await h.clock.advanceAsync(0);
    expect(h.state()).toBe('reconnecting');
    expect(first.closedBy).toBe('node');
    expect(h.of('link.disconnected').at(-1)).toEqual({ type: 'link.disconnected', cause: 'offline', reason: 'heartbeat_timeout' });
    await h.clock.advanceAsync(5_000);
    expect(h.port.connections).toHaveLength(2);
  });

  it('a failed hardware probe counts as a failed attempt and is retried on the backoff', async () => {
    const hardware = new FakeHardware();
    let failing = true;
    hardware.probe = async () => {
      hardware.probes += 1;
      if (failing) throw new Error('systeminformation crashed');
      return new FakeHardware().probeResult;
    };
    const h = await startLinkHarness({ hardware, random: () => 0 });
    await h.open();
    expect(h.state()).toBe('reconnecting');
    expect(h.port.connections[0]!.sent).toEqual([]);
    expect(h.of('link.disconnected').at(-1)).toMatchObject({ cause: 'registration_failed' });
    failing = false;
    await h.clock.advanceAsync(5_000);
    await h.open();
    expect(h.port.last.sent.map((m) => m.type)).toEqual(['node_register']);
  });

  it('supervisor.shutdown closes the socket with 1000 and ends in the final state', async () => {
    const h = await startLinkHarness();
    await h.register();
    h.ref.send({ type: 'supervisor.shutdown' });
    await h.clock.advanceAsync(0);
    expect(h.ref.getSnapshot().status).toBe('done');
    expect(h.port.last.closedBy).toBe('node');
    expect(h.port.last.closeCode).toBe(1000);
    expect(h.of('link.stateChanged').at(-1)).toMatchObject({ state: 'stopped' });
  });
});

describe('link: reconnect backoff (§3.1 step 6, §12 item 14)', () => {
  it('five failed connects wait 5, 10, 20, 40, 60 s (+ up to 20 %), then 60 s; after an ack the next wait is back to 5 s', async () => {
    const h = await startLinkHarness();
    const waits: number[] = [];
    for (let n = 0; n < 6; n++) {
      const before = h.port.connections.length;
      h.port.last.fail(1006);
      await h.clock.advanceAsync(0);
      const delay = h.of('link.reconnectScheduled').at(-1)!.delayMs;
      waits.push(delay);
      expect(delay).toBeGreaterThanOrEqual(base(n));
      expect(delay).toBeLessThanOrEqual(1.2 * base(n));
      // No attempt before the wait is over, exactly one when it is.
      await h.clock.advanceAsync(delay - 1);
      expect(h.port.connections).toHaveLength(before);
      await h.clock.advanceAsync(1);
      expect(h.port.connections).toHaveLength(before + 1);
    }
    expect(waits.map((w, n) => w / base(n))).toSatisfy((ratios: number[]) => ratios.every((r) => r >= 1 && r <= 1.2));
    expect(waits.map((_, n) => base(n))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);

    await h.register();
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    const afterAck = h.of('link.reconnectScheduled').at(-1)!.delayMs;
    expect(afterAck).toBeGreaterThanOrEqual(5_000);
    expect(afterAck).toBeLessThanOrEqual(6_000);
  });

  it('the jitter spans [d, 1.2·d]: random 0 waits d, random → 1 waits 1.2·d', async () => {
    for (const [random, factor] of [
      [0, 1],
      [0.999_999, 1.2],
    ] as const) {
      const h = await startLinkHarness({ random: () => random });
      for (let n = 0; n < 5; n++) {
        h.port.last.fail(1006);
        await h.clock.advanceAsync(0);
        expect(h.of('link.reconnectScheduled').at(-1)!.delayMs).toBe(Math.round(base(n) * factor));
        await h.clock.advanceAsync(Math.round(base(n) * factor));
      }
    }
  });

  it('the backoff counter is not reset by an open socket, only by an ack', async () => {
    const h = await startLinkHarness({ random: () => 0 });
    for (const expected of [5_000, 10_000, 20_000]) {
      await h.open();
      h.port.last.fail(1006);
      await h.clock.advanceAsync(0);
      expect(h.of('link.reconnectScheduled').at(-1)!.delayMs).toBe(expected);
      await h.clock.advanceAsync(expected);
    }
  });
});

describe('link: registration rejections (§3.1 step 4, §12 item 15)', () => {
  for (const type of ['node_error', 'error'] as const) {
    it(`${type} NO_GPU_AVAILABLE stops retrying for 10 fake minutes; an operator retry registers again`, async () => {
      const h = await startLinkHarness();
      await h.open();
      h.port.last.deliver({ type, code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported' });
      await h.clock.advanceAsync(0);
      expect(h.state()).toBe('rejected');
      expect(h.port.last.closedBy).toBe('node');
      expect(h.of('link.rejected')).toEqual([{ type: 'link.rejected', code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported', retrying: false }]);
      expect(h.of('link.stateChanged').at(-1)).toMatchObject({ state: 'rejected', errorCode: 'NO_GPU_AVAILABLE' });
      await h.clock.advanceAsync(10 * 60_000);
      expect(h.port.connections).toHaveLength(1);
      expect(h.port.connections.flatMap((c) => c.sent).filter((m) => m.type === 'node_register')).toHaveLength(1);

      h.bus.publish({ type: 'link.retryRequested', source: 'test' });
      await h.open();
      expect(h.port.connections).toHaveLength(2);
      expect(h.port.last.sent.map((m) => m.type)).toEqual(['node_register']);
    });
  }

  it('INVALID_CAPABILITY_SCHEMA is not retried either', async () => {
    const h = await startLinkHarness();
    await h.open();
    h.port.last.deliver({ type: 'node_error', code: 'INVALID_CAPABILITY_SCHEMA', message: 'capability_schema_version must be "2.0"' });
    await h.clock.advanceAsync(10 * 60_000);
    expect(h.state()).toBe('rejected');
    expect(h.port.connections).toHaveLength(1);
  });

  for (const code of ['NODE_ID_CONFLICT', 'INVALID_MESSAGE', 'INTERNAL_ERROR', 'SOMETHING_NEW']) {
    it(`${code} closes and reconnects after the backoff, re-sending the same node_id`, async () => {
      const h = await startLinkHarness({ nodeId: 'node-ABCDEF12', random: () => 0.5 });
      await h.open();
      h.port.last.deliver({ type: 'node_error', code, message: 'refused' });
      await h.clock.advanceAsync(0);
      expect(h.state()).toBe('reconnecting');
      expect(h.port.connections[0]!.closedBy).toBe('node');
      expect(h.of('link.rejected').at(-1)).toMatchObject({ code, retrying: true });
      await h.clock.advanceAsync(5_499);
      expect(h.port.connections).toHaveLength(1);
      await h.clock.advanceAsync(1);
      await h.open();
      expect(h.port.last.sent).toEqual([expect.objectContaining({ type: 'node_register', node_id: 'node-ABCDEF12' })]);
    });
  }
});

describe('link: keepalive (§1.3)', () => {
  it('pings every ws_ping_interval_ms; answered pings keep the link', async () => {
    const h = await startLinkHarness();
    await h.register();
    for (let i = 1; i <= 6; i++) {
      await h.clock.advanceAsync(15_000);
      expect(h.port.last.pings).toBe(i);
      h.port.last.activity();
    }
    expect(h.state()).toBe('registered');
    expect(h.port.connections).toHaveLength(1);
  });

  it('no frame for link_dead_ms drops the connection and reconnects on the backoff', async () => {
    const h = await startLinkHarness({ random: () => 0 });
    await h.register();
    await h.clock.advanceAsync(29_999);
    expect(h.state()).toBe('registered');
    await h.clock.advanceAsync(1);
    expect(h.port.connections[0]!.closedBy).toBe('node-terminate');
    expect(h.state()).toBe('reconnecting');
    expect(h.of('link.disconnected').at(-1)).toEqual({ type: 'link.disconnected', cause: 'link_dead' });
    await h.clock.advanceAsync(5_000);
    expect(h.port.connections).toHaveLength(2);
    expect(h.errors).toEqual([]);
  });

  it('a connect that never completes is abandoned after link_dead_ms', async () => {
    const h = await startLinkHarness({ random: () => 0 });
    await h.clock.advanceAsync(30_000);
    expect(h.port.connections[0]!.closedBy).toBe('node-terminate');
    expect(h.state()).toBe('reconnecting');
  });
});
