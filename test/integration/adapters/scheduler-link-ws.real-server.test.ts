import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createWsSchedulerLink } from '../../../src/adapters/scheduler-link-ws.adapter.js';
import { createLogger } from '../../../src/kernel/logger.js';
import type { SchedulerConnection, SchedulerLinkEvent } from '../../../src/kernel/ports/scheduler-link.port.js';
import type { NodeHeartbeat } from '../../../src/protocol/node-link.schema.js';
import { ScriptedScheduler, waitFor } from '../../support/scripted-scheduler.js';

const heartbeat: NodeHeartbeat = { type: 'node_heartbeat', node_id: 'node-1', timestamp: 1, resource_usage: { cpu_percent: 1, mem_percent: 2, running_jobs: 0 }, installed_services: [], capability_by_type: [] };

let scheduler: ScriptedScheduler | undefined;
let connection: SchedulerConnection | undefined;
afterEach(async () => {
  connection?.terminate();
  await scheduler?.close();
  scheduler = undefined;
  connection = undefined;
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', format: 'json', destination }) };
}

describe('ws scheduler link adapter against a real server', () => {
  it('reports open, frames in order (each after an activity), pongs as activity; sends JSON text frames with the Bearer token', async () => {
    scheduler = await ScriptedScheduler.start({ token: 's3cret' });
    const { lines, logger } = capture();
    const events: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink({ logger }).connect({ url: `${scheduler.url}/ws/node`, authToken: 's3cret' }, (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'opened'), 'open');
    expect(scheduler.last.headers.authorization).toBe('Bearer s3cret');
    expect(connection.send(heartbeat)).toBe(true);
    await waitFor(() => scheduler!.last.received.length === 1, 'frame at the server');
    expect(scheduler.last.received[0]).toEqual(heartbeat);

    scheduler.last.send({ type: 'node_register_ack', node_id: 'node-1', message: 'ok', status: 'registering' });
    scheduler.last.send({ type: 'node_status', node_id: 'node-1', status: 'ready', reason: null, timestamp: 2 });
    await waitFor(() => events.filter((e) => e.type === 'message').length === 2, 'two messages');
    expect(events.map((e) => e.type)).toEqual(['activity', 'opened', 'activity', 'message', 'activity', 'message']);

    connection.ping();
    await waitFor(() => events.length === 7, 'pong');
    expect(events[6]).toEqual({ type: 'activity' });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
  });

  it('ignores binary frames, invalid frames (warn) and unknown types (debug), with no reply and the socket open', async () => {
    scheduler = await ScriptedScheduler.start();
    const { lines, logger } = capture();
    const events: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink({ logger, maxFrameBytes: 1024 }).connect({ url: `${scheduler.url}/ws/node` }, (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'opened'), 'open');
    const side = scheduler.last;
    side.sendRaw(Buffer.from([1, 2, 3]));
    side.sendRaw('not json');
    side.sendRaw(JSON.stringify({ type: 'node_status', node_id: 'n', status: 'sleeping', reason: null, timestamp: 1 }));
    side.sendRaw(JSON.stringify({ type: 'room_join', room: 'r1' }));
    side.sendRaw(JSON.stringify({ type: 'node_control', command: 'x'.repeat(2_000) }));
    side.send({ type: 'job_cancel', job_id: 'job-1' });
    await waitFor(() => events.some((e) => e.type === 'message'), 'the valid message');
    expect(events.filter((e) => e.type === 'message')).toEqual([{ type: 'message', message: { type: 'job_cancel', job_id: 'job-1' } }]);
    expect(events.filter((e) => e.type === 'activity')).toHaveLength(7);
    expect(side.received).toEqual([]);
    expect(side.closed).toBeUndefined();
    const messages = lines.map((l) => [l.level, l.msg, l.type]);
    expect(messages).toEqual([
      [20, 'binary frame from the scheduler ignored', undefined],
      [40, 'invalid scheduler message ignored', undefined],
      [40, 'invalid scheduler message ignored', 'node_status'],
      [20, 'scheduler message of unknown type ignored', 'room_join'],
      [40, 'invalid scheduler message ignored', undefined],
    ]);
    // Frame bodies never reach the log.
    expect(JSON.stringify(lines)).not.toContain('xxxxxxxx');
  });

  it('a refused connect and a refused upgrade end in one closed event with a KernelError; send is refused when not open', async () => {
    scheduler = await ScriptedScheduler.start({ token: 'right' });
    const port = scheduler.port;
    const events: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink().connect({ url: `ws://127.0.0.1:${port}/ws/node`, authToken: 'wrong' }, (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'closed'), 'closed');
    expect(events).toEqual([{ type: 'closed', code: 1006, reason: '', error: expect.objectContaining({ code: 'UNAUTHORIZED', retryable: true }) }]);
    expect(connection.send(heartbeat)).toBe(false);
    await scheduler.close();
    scheduler = undefined;

    const refused: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink().connect({ url: `ws://127.0.0.1:${port}/ws/node` }, (e) => refused.push(e));
    await waitFor(() => refused.length > 0, 'closed');
    expect(refused).toEqual([{ type: 'closed', code: 1006, reason: '', error: expect.objectContaining({ code: 'LINK_REFUSED' }) }]);
  });

  it('the peer closing reports its code; a close by the node sends 1000 and reports nothing more', async () => {
    scheduler = await ScriptedScheduler.start();
    const events: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink().connect({ url: `${scheduler.url}/ws/node` }, (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'opened'), 'open');
    scheduler.last.ws.close(4000, 'heartbeat_timeout');
    await waitFor(() => events.some((e) => e.type === 'closed'), 'closed');
    expect(events.at(-1)).toEqual({ type: 'closed', code: 4000, reason: 'heartbeat_timeout', error: expect.objectContaining({ code: 'LINK_CLOSED' }) });

    const second: SchedulerLinkEvent[] = [];
    connection = createWsSchedulerLink().connect({ url: `${scheduler.url}/ws/node` }, (e) => second.push(e));
    await waitFor(() => second.some((e) => e.type === 'opened'), 'open');
    const side = scheduler.last;
    connection.close(1000, 'node closing');
    await waitFor(() => side.closed !== undefined, 'close at the server');
    expect(side.closed).toEqual({ code: 1000, reason: 'node closing' });
    expect(second.map((e) => e.type)).toEqual(['activity', 'opened']);
  });
});
