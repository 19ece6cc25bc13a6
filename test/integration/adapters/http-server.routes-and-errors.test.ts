import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startHttpServer } from '../../../src/adapters/http-server.adapter.js';
import { KernelError } from '../../../src/kernel/errors.js';
import type { HttpServerHandle } from '../../../src/kernel/ports/http.port.js';

let server: HttpServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('http server adapter', () => {
  it('routes by method and path parameters, answers JSON, 404 and 405', async () => {
    server = await startHttpServer({
      port: 0,
      routes: [
        { method: 'GET', path: '/api/services/:id', handle: (req) => ({ status: 200, json: { id: req.params.id, q: req.query.get('q') } }) },
        { method: 'POST', path: '/echo', handle: async (req) => ({ status: 201, json: await req.json() }) },
      ],
    });
    const base = `http://127.0.0.1:${server.port}`;
    const a = await request(`${base}/api/services/tts-es?q=1`);
    expect(a.statusCode).toBe(200);
    expect(await a.body.json()).toEqual({ id: 'tts-es', q: '1' });
    const b = await request(`${base}/echo`, { method: 'POST', body: JSON.stringify({ x: 1 }) });
    expect(b.statusCode).toBe(201);
    expect(await b.body.json()).toEqual({ x: 1 });
    const c = await request(`${base}/nope`);
    expect(c.statusCode).toBe(404);
    expect(await c.body.json()).toMatchObject({ code: 'NOT_FOUND' });
    const d = await request(`${base}/echo`);
    expect(d.statusCode).toBe(405);
    await d.body.dump();
  });

  it('turns kernel errors into status + code, bad JSON into 400 and oversized bodies into 413, and keeps serving', async () => {
    server = await startHttpServer({
      port: 0,
      maxBodyBytes: 16,
      routes: [
        { method: 'POST', path: '/body', handle: async (req) => ({ status: 200, json: await req.json() }) },
        { method: 'GET', path: '/conflict', handle: () => { throw new KernelError('CONFLICT', 'already installing'); } },
        { method: 'GET', path: '/bug', handle: () => { throw new TypeError('bug'); } },
      ],
    });
    const base = `http://127.0.0.1:${server.port}`;
    const bad = await request(`${base}/body`, { method: 'POST', body: '{nope' });
    expect([bad.statusCode, ((await bad.body.json()) as { code: string }).code]).toEqual([400, 'INVALID_MESSAGE']);
    const big = await request(`${base}/body`, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(100) }) });
    expect([big.statusCode, ((await big.body.json()) as { code: string }).code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const conflict = await request(`${base}/conflict`);
    expect([conflict.statusCode, ((await conflict.body.json()) as { code: string }).code]).toEqual([409, 'CONFLICT']);
    const bug = await request(`${base}/bug`);
    expect([bug.statusCode, ((await bug.body.json()) as { code: string }).code]).toEqual([500, 'INTERNAL_ERROR']);
    const ok = await request(`${base}/body`, { method: 'POST', body: '{"a":1}' });
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });

  it('reports a port in use with PORT_IN_USE', async () => {
    server = await startHttpServer({ port: 0, routes: [] });
    await expect(startHttpServer({ port: server.port, routes: [] })).rejects.toMatchObject({ code: 'PORT_IN_USE' });
  });
});
