/**
 * The embedding handles in this process: the inspection stream to a Stately inspector endpoint
 * (a real WebSocket server here) and to a JSON-lines file, ending with `stop()`; the hub's handle
 * (events, status, idempotent stop); a node whose start fails (ready rejects, done says failed).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { startHub, startNode, startScheduler } from '../../../src/cli/embedding.js';
import type { BusEvent } from '../../../src/kernel/bus.js';
import { waitFor } from '../../support/scripted-scheduler.js';

const dir = mkdtempSync(join(tmpdir(), 'lm-embed-handles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embedded roles', () => {
  it('streams the actors to the inspector endpoint and records them; stop() closes the socket and the file', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    const received: { type: string; name?: string }[] = [];
    let socket: WebSocket | undefined;
    let closed = false;
    server.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (data) => received.push(JSON.parse(String(data)) as { type: string; name?: string }));
      ws.on('close', () => (closed = true));
    });
    const record = join(dir, 'scheduler.jsonl');
    const scheduler = startScheduler({ host: '127.0.0.1', port: 0, inspect: url, record });
    expect(scheduler.inspector).toEqual({ url, record });
    await scheduler.ready;
    const types = () => new Set(received.map((e) => e.type));
    await waitFor(() => ['@xstate.actor', '@xstate.event', '@xstate.snapshot'].every((t) => types().has(t)), 'actors, events and snapshots at the inspector', 10_000);
    expect(received.find((e) => e.type === '@xstate.actor')?.name).toBeDefined();
    await scheduler.stop();
    await waitFor(() => closed, 'the inspector socket closed by stop()', 5_000);
    expect(socket).toBeDefined();
    const lines = readFileSync(record, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; event?: { type?: string } });
    expect(new Set(lines.map((l) => l.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot', '@xstate.action', '@xstate.microstep']));
    // The recording runs to the end: the ordered shutdown is in it.
    expect(lines.some((l) => l.type === '@xstate.event' && l.event?.type === 'supervisor.shutdown')).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the hub: typed events, status(), and a stop() that is idempotent', async () => {
    const hub = startHub({ storageDir: join(dir, 'storage'), host: '127.0.0.1', port: 0 });
    const scans: BusEvent[] = [];
    const all: string[] = [];
    hub.on('hub.catalogueScanned', (event) => scans.push(event));
    const off = hub.on('*', (event) => all.push(event.type));
    const { url } = await hub.ready;
    expect(await (await fetch(`${url}/health`)).status).toBe(200);
    await waitFor(() => scans.length > 0, 'a storage scan', 5_000);
    expect(scans[0]).toMatchObject({ type: 'hub.catalogueScanned', ok: true, services: 0, models: 0 });
    expect(all).toContain('hub.catalogueScanned');
    off();
    expect(await hub.status()).toMatchObject({ role: 'hub', services: {}, models: [] });
    expect(hub.inspector).toBeUndefined();
    await Promise.all([hub.stop(), hub.stop()]);
    expect(await hub.done).toEqual({ reason: 'shutdown' });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('a node whose start fails: ready rejects with the cause, done says failed, stop() resolves', async () => {
    const node = startNode({ schedulerUrl: 'ws://127.0.0.1:1', dataDir: join(dir, 'node'), httpPort: 0, hubUrl: 'http://127.0.0.1:1', hubKeys: { k1: 'AAAA' } });
    await expect(node.ready).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(await node.done).toMatchObject({ reason: 'failed', error: { code: 'INVALID_CONFIG' } });
    await node.stop();
    await expect(node.status()).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
