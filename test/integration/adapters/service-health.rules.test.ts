import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceHealthAdapter } from '../../../src/adapters/service-health.adapter.js';

const answers: Record<string, { status: number; body: string; type?: string }> = {
  '/ok': { status: 200, body: '{"status":"ok","device":"cpu"}' },
  '/ready-upper': { status: 200, body: '{"status":"READY"}' },
  '/healthy': { status: 200, body: '{"status":"Healthy"}' },
  '/nostatus': { status: 200, body: '{"model_loaded":true}' },
  '/plain': { status: 200, body: 'OK', type: 'text/plain' },
  '/plain-other': { status: 200, body: 'fine', type: 'text/plain' },
  '/not-ready': { status: 200, body: '{"status":"not_ready"}' },
  '/degraded': { status: 200, body: '{"status":"degraded"}' },
  '/503': { status: 503, body: '{"status":"ok"}' },
  '/languages': { status: 200, body: '{"status":"ok","languages":{"nmt":[{"src":"en","tgt":"de"}]}}' },
  '/bad-languages': { status: 200, body: '{"status":"ok","languages":{"nmt":"everything"}}' },
  '/huge': { status: 200, body: `{"status":"ok","pad":"${'x'.repeat(100_000)}"}` },
};

let server: Server;
let baseUrl: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/hang') return;
    const a = answers[req.url ?? ''] ?? { status: 404, body: '{}' };
    res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' });
    res.end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('health probes (PROTOCOL.md §9.1)', () => {
  const health = createServiceHealthAdapter();
  afterAll(() => health.close());
  const probe = (endpoint: string, signal = new AbortController().signal) => health.probe({ baseUrl, endpoint, method: 'GET' }, signal);

  it('ready: 2xx with status ok|healthy|ready in any case, JSON without status, or the plain text OK', async () => {
    for (const endpoint of ['/ok', '/ready-upper', '/healthy', '/nostatus', '/plain']) expect(await probe(endpoint)).toEqual({ ready: true });
  });

  it('not ready, with a reason: other statuses, other text, non-2xx, a refused connection, a body too large', async () => {
    expect(await probe('/not-ready')).toEqual({ ready: false, reason: 'status not_ready' });
    expect(await probe('/degraded')).toEqual({ ready: false, reason: 'status degraded' });
    expect(await probe('/plain-other')).toEqual({ ready: false, reason: 'body not ready' });
    expect(await probe('/503')).toEqual({ ready: false, reason: 'HTTP 503' });
    expect(await probe('/huge')).toEqual({ ready: false, reason: 'body too large' });
    const refused = await health.probe({ baseUrl: 'http://127.0.0.1:9', endpoint: '/health', method: 'GET' }, new AbortController().signal);
    expect(refused).toEqual({ ready: false, reason: 'refused' });
  });

  it('hands back the languages of a ready answer; a languages value of the wrong shape is ignored', async () => {
    expect(await probe('/languages')).toEqual({ ready: true, languages: { nmt: [{ src: 'en', tgt: 'de' }] } });
    expect(await probe('/bad-languages')).toEqual({ ready: true });
  });

  it('the caller owns the deadline: an aborted probe rejects with ABORTED', async () => {
    const controller = new AbortController();
    const pending = probe('/hang', controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
