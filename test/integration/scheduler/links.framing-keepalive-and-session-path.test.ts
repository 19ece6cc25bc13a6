/**
 * The scheduler's transport (PROTOCOL.md §1.1, §1.3; §12 items 1 and 3): `/health`, binary frames
 * ignored, oversized frames answered as invalid on an open socket, pings and the silence limit on
 * the fake clock, and `/ws/session` answering in the PROTOCOL.md error form.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { LinkClient, tryUpgrade } from '../../support/node-link-client.js';
import { registerFrame } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
const extra: LinkClient[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((c) => c.close()));
  await t?.stop();
  t = undefined;
});

describe('scheduler transport', () => {
  it('answers GET /health with 200 text/plain OK (§12 item 1)', async () => {
    t = await startTestScheduler();
    const res = await request(`${t.http}/health`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(await res.body.text()).toBe('OK');
  });

  it('ignores a binary frame on /ws/node: no reply, socket open (§12 item 1)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.sendBinary(Buffer.from(JSON.stringify(registerFrame())));
    expect(await client.sync()).toEqual([]);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('ignores a binary frame on /ws/session: the next answer is the one to the next text frame (§12 item 1)', async () => {
    t = await startTestScheduler();
    const client = await LinkClient.connect(t.ws('/ws/session'));
    extra.push(client);
    client.sendBinary(Buffer.from('{"type":"bogus"}'));
    client.send('not json');
    await expect(client.next()).resolves.toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', message: expect.stringContaining('JSON') });
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a frame over max_frame_bytes (8 MiB) as invalid, naming its size, and keeps the socket open (§1.3)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    const size = 8 * 1024 * 1024 + 64;
    const frame = JSON.stringify({ type: 'node_register', pad: 'x'.repeat(size) });
    client.send(frame);
    const error = await client.nextOfType('node_error', 20_000);
    expect(error).toMatchObject({ code: 'INVALID_MESSAGE', details: { reason: expect.stringContaining(`frame of ${Buffer.byteLength(frame)} bytes`) } });
    client.send(registerFrame());
    await expect(client.nextOfType('node_register_ack')).resolves.toBeDefined();
  });

  it('answers /ws/session frames in the error form: INVALID_MESSAGE for junk, UNSUPPORTED_FEATURE for rooms, nothing for webrtc, INVALID_SESSION for an unknown session (§12 item 3)', async () => {
    t = await startTestScheduler();
    const client = await LinkClient.connect(t.ws('/ws/session'));
    extra.push(client);
    client.send('not json');
    await expect(client.next()).resolves.toEqual({ type: 'error', code: 'INVALID_MESSAGE', message: expect.stringMatching(/^Invalid message format: /) });
    client.send({ type: 'room_create' });
    await expect(client.next()).resolves.toMatchObject({ type: 'error', code: 'UNSUPPORTED_FEATURE' });
    client.send({ type: 'webrtc_offer' });
    client.send({ type: 'bogus' });
    await expect(client.next()).resolves.toMatchObject({ type: 'error', code: 'INVALID_MESSAGE', message: expect.stringContaining('bogus') });
    client.send({ type: 'audio_chunk', session_id: 's-00000000', seq: 1, is_final: false, payload: '' });
    await expect(client.next()).resolves.toEqual({ type: 'error', code: 'INVALID_SESSION', message: 'Session does not exist', details: { session_id: 's-00000000' } });
    client.send({ type: 'session_init', client_version: '1', platform: 'web', src_lang: 'en', tgt_lang: 'es' });
    await expect(client.next()).resolves.toMatchObject({ type: 'session_init_ack' });
  });

  it('refuses an upgrade on an unknown path with 404', async () => {
    t = await startTestScheduler();
    await expect(tryUpgrade(t.ws('/ws/other'))).resolves.toMatchObject({ status: 404 });
  });

  it('pings every 15 s and terminates a connection silent for 45 s, pongs included (§1.3)', async () => {
    t = await startTestScheduler();
    const silent = new WebSocket(t.ws('/ws/node'), { autoPong: false });
    await new Promise((resolve) => silent.once('open', resolve));
    const answering = await t.connectNode();
    let pings = 0;
    silent.on('ping', () => pings++);
    const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
    await t.clock.advanceAsync(15_000);
    await expect.poll(() => pings).toBe(1);
    await t.clock.advanceAsync(15_000);
    await expect.poll(() => pings).toBe(2);
    await t.clock.advanceAsync(14_999);
    expect(silent.readyState).toBe(WebSocket.OPEN);
    await t.clock.advanceAsync(1);
    await expect(closed).resolves.toBe(1006);
    // The other client answered every ping: still open, and still served.
    answering.send(registerFrame());
    await expect(answering.nextOfType('node_register_ack')).resolves.toBeDefined();
  });
});
