import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../../src/cli/start-node.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { FakeHardware } from '../../fakes/hardware.fake.js';
import { ScriptedScheduler, waitFor } from '../../support/scripted-scheduler.js';
import type { SchedulerSideConnection } from '../../support/scripted-scheduler.js';
import { startTestNode, tempDataDir } from '../../support/node-harness.js';

const ACK = (nodeId: string, extra: object = {}) => ({ type: 'node_register_ack', node_id: nodeId, message: 'Node registered successfully', status: 'registering', ...extra });

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scheduler(options: { port?: number; token?: string } = {}) {
  const s = await ScriptedScheduler.start(options);
  cleanups.push(() => s.close());
  return s;
}

async function node(url: string, options: Parameters<typeof startTestNode>[1] = {}) {
  const n = await startTestNode(url, options);
  cleanups.push(() => n.node.stop());
  return n;
}

const types = (conn: SchedulerSideConnection) => conn.received.map((m) => m.type);

describe('node against a scripted scheduler (real ws on 127.0.0.1)', () => {
  it('registers, sends one heartbeat at once after the ack and then every 15 000 ms from socket open (§12 item 12)', async () => {
    const s = await scheduler();
    const n = await node(s.url);
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    const conn = s.last;
    const register = conn.received[0]!;
    expect(register).toMatchObject({ type: 'node_register', capability_schema_version: '2.0', platform: 'linux', hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] }, installed_models: [], installed_services: [], capability_by_type: [], features_supported: {}, accept_public_jobs: true, max_concurrent_jobs: 4, epoch: n.node.epoch });
    expect(register).not.toHaveProperty('node_id');
    // Nothing but node_register before the ack, whatever time passes.
    await n.clock.advanceAsync(14_000);
    expect(types(conn)).toEqual(['node_register']);
    expect(n.node.status().link).toMatchObject({ state: 'registering' });

    conn.send(ACK('node-3F2A9C1B'));
    await waitFor(() => conn.received.length === 2, 'the ack heartbeat');
    expect(conn.received[1]).toMatchObject({ type: 'node_heartbeat', node_id: 'node-3F2A9C1B', seq: 1, epoch: n.node.epoch, timestamp: n.t0 + 14_000 });
    // The periodic timer runs from socket open (t0): next ticks at 15 000 and 30 000.
    await n.clock.advanceAsync(1_000);
    await waitFor(() => conn.received.length === 3, 'periodic heartbeat');
    await n.clock.advanceAsync(15_000);
    await waitFor(() => conn.received.length === 4, 'periodic heartbeat');
    expect(conn.received.slice(1).map((m) => [m.seq, (m.timestamp as number) - n.t0])).toEqual([
      [1, 14_000],
      [2, 15_000],
      [3, 30_000],
    ]);
    expect(conn.pings).toBe(2);

    const status = (await n.http('GET', '/status')).json();
    expect(status).toMatchObject({
      role: 'node',
      epoch: n.node.epoch,
      link: { state: 'registered', nodeId: 'node-3F2A9C1B', schedulerStatus: 'registering', schedulerUrl: `${s.url}/ws/node` },
      heartbeat: { lastSeq: 3, lastTrigger: 'periodic' },
      hardware: { platform: 'linux', cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] },
      services: [],
      runningJobs: 0,
    });
    conn.send({ type: 'node_status', node_id: 'node-3F2A9C1B', status: 'ready', reason: 'healthy_heartbeats', timestamp: 1_767_225_630_000 });
    await waitFor(() => n.node.status().link.schedulerStatus === 'ready', 'ready');
    expect(n.node.status().link.schedulerReason).toBe('healthy_heartbeats');
    expect((await n.http('GET', '/health')).text).toBe('OK');
    const metrics = (await n.http('GET', '/metrics')).text;
    expect(metrics).toContain('linguamesh_node_heartbeats_sent_total{trigger="ack"} 1');
    expect(metrics).toContain('linguamesh_node_heartbeats_sent_total{trigger="periodic"} 2');
    expect(metrics).toContain('linguamesh_node_link_state{state="registered"} 1');
  });

  it('a service change reaches the scheduler in one debounced heartbeat with the new capabilities', async () => {
    const s = await scheduler();
    const n = await node(s.url);
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    s.last.send(ACK('node-3F2A9C1B'));
    await waitFor(() => s.last.received.length === 2, 'ack heartbeat');
    n.registry.set({ id: 'asr-en', type: 'asr', state: 'starting', languages: ['en'] });
    await n.clock.advanceAsync(500);
    n.registry.setState('asr-en', 'running');
    await n.clock.advanceAsync(1_999);
    expect(s.last.received).toHaveLength(2);
    await n.clock.advanceAsync(1);
    await waitFor(() => s.last.received.length === 3, 'debounced heartbeat');
    expect(s.last.received[2]).toMatchObject({
      seq: 2,
      installed_services: [{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }],
      capability_by_type: [{ type: 'asr', ready: true, ready_impl_ids: ['asr-en'] }],
      language_capabilities: { asr_languages: ['en'] },
    });
    expect((await n.http('GET', '/status')).json().services).toEqual([{ id: 'asr-en', type: 'asr', state: 'running', status: 'running', device: 'gpu' }]);
  });

  it('persists the assigned node_id atomically and re-sends it after a restart on the same data dir', async () => {
    const s = await scheduler();
    const dataDir = tempDataDir();
    const first = await startTestNode(s.url, { dataDir });
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    expect(s.last.received[0]).not.toHaveProperty('node_id');
    s.last.send(ACK('node-1A2B3C4D'));
    await waitFor(() => s.last.received.length === 2, 'heartbeat');
    await first.node.stop();
    expect(JSON.parse(readFileSync(join(dataDir, 'node-identity.json'), 'utf8'))).toEqual({ node_id: 'node-1A2B3C4D' });
    await waitFor(() => s.connections[0]!.closed !== undefined, 'close of the first connection');
    expect(s.connections[0]!.closed?.code).toBe(1000);

    await node(s.url, { dataDir });
    await waitFor(() => s.connections[1]?.received.length === 1, 'second node_register');
    expect(s.connections[1]!.received[0]).toMatchObject({ type: 'node_register', node_id: 'node-1A2B3C4D' });
    expect(s.connections[1]!.received[0]!.epoch).not.toBe(s.connections[0]!.received[0]!.epoch);
  });

  it('reconnects with backoff 5, 10, 20, 40, 60, 60 s (each within [d, 1.2·d]) and starts over at 5 s after an ack (§12 item 14)', async () => {
    const s = await scheduler();
    const port = s.port;
    const n = await node(s.url);
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    await s.close();
    const bases = [5_000, 10_000, 20_000, 40_000, 60_000, 60_000];
    for (const [i, base] of bases.entries()) {
      await waitFor(() => n.of('link.reconnectScheduled').length === i + 1, `failure ${i + 1}`);
      const delay = n.of('link.reconnectScheduled')[i]!.delayMs;
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThanOrEqual(base * 1.2);
      await n.clock.advanceAsync(delay - 1);
      expect(n.of('link.connected')).toHaveLength(1);
      expect(n.node.status().link.state).toBe('reconnecting');
      await n.clock.advanceAsync(1);
    }
    // The scheduler is back on the same port: the next attempt connects, is acked, then dropped.
    const back = await scheduler({ port });
    await waitFor(() => n.of('link.reconnectScheduled').length === bases.length + 1, 'last failure');
    await n.clock.advanceAsync(n.of('link.reconnectScheduled').at(-1)!.delayMs);
    await waitFor(() => back.connections[0]?.received.length === 1, 'node_register after the outage');
    back.last.send(ACK('node-77777777'));
    await waitFor(() => back.last.received.length === 2, 'heartbeat');
    back.last.ws.terminate();
    await waitFor(() => n.of('link.reconnectScheduled').length === bases.length + 2, 'failure after the ack');
    const afterAck = n.of('link.reconnectScheduled').at(-1)!.delayMs;
    expect(afterAck).toBeGreaterThanOrEqual(5_000);
    expect(afterAck).toBeLessThanOrEqual(6_000);
    expect(n.node.status().link).toMatchObject({ state: 'reconnecting', nodeId: 'node-77777777', nextAttemptAtMs: n.clock.now() + afterAck });
  });

  it('NO_GPU_AVAILABLE: no retry for 10 fake minutes, visible on /status with what to do; an operator retry registers again (§12 item 15)', async () => {
    const s = await scheduler();
    const n = await node(s.url);
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    s.last.send({ type: 'node_error', code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported' });
    await waitFor(() => n.node.status().link.state === 'rejected', 'rejected');
    await waitFor(() => s.connections[0]!.closed !== undefined, 'the node closes the socket');
    for (let minute = 0; minute < 10; minute++) await n.clock.advanceAsync(60_000);
    expect(s.connections).toHaveLength(1);
    const status = (await n.http('GET', '/status')).json() as { link: Record<string, unknown> };
    expect(status.link).toMatchObject({ state: 'rejected', lastRejection: { code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported', retrying: false } });
    expect(String((status.link.lastRejection as { action: string }).action)).toContain('/api/v1/link/retry');
    expect(n.logs.some((l) => l.level === 50 && l.msg.includes('not retrying') && l.code === 'NO_GPU_AVAILABLE')).toBe(true);
    expect((await n.http('GET', '/metrics')).text).toContain('linguamesh_node_link_rejections_total{code="NO_GPU_AVAILABLE"} 1');

    const retry = await n.http('POST', '/api/v1/link/retry');
    expect(retry.status).toBe(202);
    await waitFor(() => s.connections[1]?.received.length === 1, 'node_register after the retry');
    expect(types(s.connections[1]!)).toEqual(['node_register']);
  });

  it('NODE_ID_CONFLICT: closes, reconnects after the backoff and re-sends the same node_id (read from the data dir)', async () => {
    const s = await scheduler();
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, 'node-identity.json'), JSON.stringify({ node_id: 'node-ABCDEF12' }));
    const n = await node(s.url, { dataDir, random: () => 0 });
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    expect(s.last.received[0]).toMatchObject({ node_id: 'node-ABCDEF12' });
    s.last.send({ type: 'error', code: 'NODE_ID_CONFLICT', message: 'node_id held by a live connection' });
    await waitFor(() => s.connections[0]!.closed !== undefined, 'close');
    expect(n.node.status().link).toMatchObject({ state: 'reconnecting', lastRejection: { code: 'NODE_ID_CONFLICT', retrying: true } });
    await n.clock.advanceAsync(4_999);
    expect(s.connections).toHaveLength(1);
    await n.clock.advanceAsync(1);
    await waitFor(() => s.connections[1]?.received.length === 1, 'second node_register');
    expect(s.connections[1]!.received[0]).toMatchObject({ type: 'node_register', node_id: 'node-ABCDEF12' });
  });

  it('a dead link (the scheduler stops answering pings) is detected after link_dead_ms and reconnected', async () => {
    const s = await scheduler();
    const n = await node(s.url, { linkDeadMs: 30_000, random: () => 0 });
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    const conn = s.last;
    conn.send(ACK('node-3F2A9C1B'));
    await waitFor(() => conn.received.length === 2, 'heartbeat');
    conn.answerPings = false;
    await n.clock.advanceAsync(15_000);
    await waitFor(() => conn.pings === 1, 'first unanswered ping');
    await n.clock.advanceAsync(14_999);
    expect(n.node.status().link.state).toBe('registered');
    await n.clock.advanceAsync(1);
    await waitFor(() => conn.closed !== undefined, 'the node drops the connection');
    expect(n.node.status().link).toMatchObject({ state: 'reconnecting', lastDisconnect: { cause: 'link_dead' } });
    await n.clock.advanceAsync(5_000);
    await waitFor(() => s.connections[1]?.received.length === 1, 'reconnect');
    expect(s.connections[1]!.received[0]).toMatchObject({ type: 'node_register', node_id: 'node-3F2A9C1B' });
  });

  it('ignores unknown message types with a debug log, invalid frames with a warning and binary frames, without a reply', async () => {
    const s = await scheduler();
    const n = await node(s.url);
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    const conn = s.last;
    conn.send(ACK('node-3F2A9C1B'));
    await waitFor(() => conn.received.length === 2, 'heartbeat');
    conn.send({ type: 'scheduler_gossip', payload: 'future extension' });
    conn.sendRaw('{"type":"node_status","status":"ready"}');
    conn.sendRaw(Buffer.from([0xf8, 0xff, 0xfe]));
    conn.send({ type: 'job_cancel', job_id: 'job-6f1c2a9e-6a43-4f7e-9a35-2f0d9e1b7c10', reason: 'session_closed' });
    await waitFor(() => n.of('link.jobCancelled').length === 1, 'the valid message after them');
    expect(n.logs.filter((l) => l.msg === 'scheduler message of unknown type ignored')).toEqual([expect.objectContaining({ level: 20, type: 'scheduler_gossip' })]);
    expect(n.logs.filter((l) => l.msg === 'invalid scheduler message ignored')).toEqual([expect.objectContaining({ level: 40, type: 'node_status' })]);
    expect(n.logs.filter((l) => l.msg === 'binary frame from the scheduler ignored')).toHaveLength(1);
    expect(types(conn)).toEqual(['node_register', 'node_heartbeat']);
    expect(conn.closed).toBeUndefined();
    expect(n.node.status().link.state).toBe('registered');
  });

  it('sends the token as Bearer; a wrong token is refused and retried on the backoff, never logged', async () => {
    const s = await scheduler({ token: 'tok-right' });
    const good = await node(s.url, { authToken: 'tok-right' });
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    expect(s.connections[0]!.headers.authorization).toBe('Bearer tok-right');

    const bad = await node(s.url, { authToken: 'tok-wrong', random: () => 0 });
    await waitFor(() => bad.of('link.reconnectScheduled').length === 1, 'refused upgrade');
    expect(s.refusedUpgrades).toBe(1);
    expect(bad.node.status().link.state).toBe('reconnecting');
    expect(JSON.stringify([...good.logs, ...bad.logs])).not.toMatch(/tok-right|tok-wrong/);
  });

  it('others send through the link with a link.send bus event: delivered while registered, dropped before', async () => {
    const s = await scheduler();
    const n = await node(s.url);
    const jobAck = { type: 'job_ack', job_id: 'job-1', attempt_id: 1, node_id: 'node-3F2A9C1B', session_id: 's-1', trace_id: 't-1' } as const;
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    n.bus.publish({ type: 'link.send', message: jobAck });
    expect(n.of('link.sendDropped')).toEqual([{ type: 'link.sendDropped', messageType: 'job_ack', reason: 'not_registered' }]);
    s.last.send(ACK('node-3F2A9C1B'));
    await waitFor(() => s.last.received.length === 2, 'heartbeat');
    n.bus.publish({ type: 'link.send', message: jobAck });
    await waitFor(() => s.last.received.length === 3, 'job_ack');
    expect(s.last.received[2]).toEqual(jobAck);
  });
});

describe('node start-up failure', () => {
  it('a control port in use fails the node: ready rejects with PORT_IN_USE after the restarts, done reports the failure', async () => {
    const s = await scheduler();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as AddressInfo).port;
    const clock = new FakeClock();
    const n = startNode({ schedulerUrl: s.url, dataDir: tempDataDir(), httpPort: port, clock, hardware: new FakeHardware(), signals: 'none' });
    cleanups.push(() => n.stop());
    let settled = false;
    const ready = n.ready.then(
      () => 'listening',
      (err: unknown) => err,
    );
    void ready.then(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) await clock.advanceAsync(1_000);
    expect(await ready).toMatchObject({ code: 'PORT_IN_USE' });
    expect(await n.done).toMatchObject({ reason: 'failed', error: { code: 'SUPERVISOR_INTENSITY_EXCEEDED', details: { childId: 'http' } } });
  });
});

describe('node stop', () => {
  it('stops the whole tree: the socket closes with 1000, the endpoint stops listening', async () => {
    const s = await scheduler();
    const n = await startTestNode(s.url, { clock: new FakeClock() });
    await waitFor(() => s.connections[0]?.received.length === 1, 'node_register');
    const exit = await n.node.stop();
    expect(exit).toEqual({ reason: 'shutdown' });
    await waitFor(() => s.connections[0]!.closed !== undefined, 'close');
    expect(s.connections[0]!.closed?.code).toBe(1000);
    await expect(fetch(`http://127.0.0.1:${n.httpPort}/health`)).rejects.toThrow();
    expect(n.node.stop()).toBe(n.node.stop());
    // Never acked: nothing was persisted.
    expect(existsSync(join(n.dataDir, 'node-identity.json'))).toBe(false);
  });
});
