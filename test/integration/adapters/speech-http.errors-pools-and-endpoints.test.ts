/**
 * The speech port over undici against real loopback HTTP servers (PROTOCOL.md §9.1–§9.4): bodies
 * parsed with the protocol schemas, failures mapped to KernelErrors with `retryable` and the
 * original as `cause`, one keep-alive pool per service, deadlines only through the caller's signal.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSpeechHttpAdapter } from '../../../src/adapters/speech-http.adapter.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { SpeechPort, SpeechServiceRef } from '../../../src/kernel/ports/speech.port.js';
import { freePort } from '../../support/service-process.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

interface TestServer {
  url: string;
  requests: { path: string; body: unknown }[];
  connections: number;
  /** Connections open now. */
  open: number;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
let speech: SpeechPort | undefined;

async function serve(handler: Handler): Promise<TestServer> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      state.requests.push({ path: req.url ?? '', body: body ? (JSON.parse(body) as unknown) : undefined });
      handler(req, body, res);
    });
  });
  server.on('connection', (socket) => {
    state.connections += 1;
    state.open += 1;
    socket.on('close', () => (state.open -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    connections: 0,
    open: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(state);
  return state;
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

const ref = (server: { url: string }, id = 'svc', ttsEndpoint: SpeechServiceRef['ttsEndpoint'] = '/tts'): SpeechServiceRef => ({ id, baseUrl: server.url, ttsEndpoint });
const signal = () => new AbortController().signal;

/** Bounded polling of real socket state. */
async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const asrRequest = { job_id: 'j', src_lang: 'en', audio: 'AAAA', audio_format: 'pcm16', sample_rate: 16_000 };

afterEach(async () => {
  await speech?.close();
  speech = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('speech over HTTP', () => {
  it('ASR, NMT and both TTS endpoints: requests as the API says, answers parsed', async () => {
    const server = await serve((req, _body, res) => {
      if (req.url === '/utterance') json(res, 200, { text: 'where is the station', language: 'en', segments: [{ text: 'where is the station', start: 0, end: 1.2 }] });
      else if (req.url === '/v1/translate') json(res, 200, { ok: true, text: 'dónde está la estación', provider: 'apertium' });
      else if (req.url === '/tts') {
        res.writeHead(200, { 'content-type': 'audio/wav' });
        res.end(Buffer.from('RIFF....WAVE'));
      } else json(res, 200, { audio: [0, 0.25, -1], sample_rate: 24_000 });
    });
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    expect(await speech.transcribe(ref(server), asrRequest, signal())).toMatchObject({ text: 'where is the station', language: 'en' });
    expect(await speech.translate(ref(server), { src_lang: 'en', tgt_lang: 'es', text: 'where is the station' }, signal())).toMatchObject({ ok: true, text: 'dónde está la estación' });
    const wav = await speech.synthesize(ref(server), { text: 'hola', voice: 'es', language: 'es' }, signal());
    expect(wav.kind === 'wav' && Buffer.from(wav.bytes).toString('latin1')).toBe('RIFF....WAVE');
    const floats = await speech.synthesize(ref(server, 'clone', '/synthesize'), { text: 'hola', voice: 'es', language: 'es' }, signal());
    expect(floats).toEqual({ kind: 'pcm', samples: new Float32Array([0, 0.25, -1]), sampleRate: 24_000 });
    expect(server.requests.map((r) => r.path)).toEqual(['/utterance', '/v1/translate', '/tts', '/synthesize']);
    expect(server.requests[2]!.body).toEqual({ text: 'hola', voice: 'es', language: 'es' });
    // /synthesize has no voice in its API; the language is always sent (§9.4).
    expect(server.requests[3]!.body).toEqual({ text: 'hola', language: 'es' });
  });

  it('non-2xx: retryable per status, the service detail in the message, Retry-After as information', async () => {
    const server = await serve((req, _body, res) => {
      if (req.url === '/utterance') json(res, 503, { detail: 'busy', code: 'OVERLOADED' }, { 'retry-after': '2' });
      else json(res, 404, { error: 'unknown voice' });
    });
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    await expect(speech.transcribe(ref(server), asrRequest, signal())).rejects.toMatchObject({
      code: 'SERVICE_HTTP_ERROR',
      retryable: true,
      message: expect.stringContaining('503: busy'),
      details: { status: 503, retryAfterS: 2, serviceCode: 'OVERLOADED', serviceId: 'svc' },
    });
    await expect(speech.synthesize(ref(server), { text: 'x', voice: 'nope' }, signal())).rejects.toMatchObject({ code: 'SERVICE_HTTP_ERROR', retryable: false, details: { status: 404 } });
  });

  it('ok:false and bodies that break the API are failed calls', async () => {
    let answer: unknown = { ok: false, error: 'Model not loaded' };
    const server = await serve((_req, _body, res) => json(res, 200, answer));
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    const nmt = { src_lang: 'en', tgt_lang: 'es', text: 'x' };
    await expect(speech.translate(ref(server), nmt, signal())).rejects.toMatchObject({ code: 'SERVICE_REPLY_NOT_OK', retryable: true, message: expect.stringContaining('Model not loaded') });
    answer = { ok: true };
    await expect(speech.translate(ref(server), nmt, signal())).rejects.toMatchObject({ code: 'SERVICE_REPLY_NOT_OK' });
    answer = { transcript: 'wrong field' };
    await expect(speech.transcribe(ref(server), asrRequest, signal())).rejects.toMatchObject({ code: 'SERVICE_BAD_RESPONSE', retryable: false, details: { issues: [expect.objectContaining({ path: 'text' })] } });
  });

  it('a body over the size limit is refused', async () => {
    const server = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(Buffer.alloc(4_096));
    });
    speech = createSpeechHttpAdapter({ maxResponseBytes: 1_024 }, { logger: silentLogger() });
    await expect(speech.synthesize(ref(server), { text: 'x', voice: 'v' }, signal())).rejects.toMatchObject({ code: 'SERVICE_BAD_RESPONSE' });
  });

  it('a refused connection is SERVICE_UNREACHABLE, retryable, with the library error as cause', async () => {
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    const port = await freePort();
    const error = await speech.transcribe({ id: 'gone', baseUrl: `http://127.0.0.1:${port}`, ttsEndpoint: '/tts' }, asrRequest, signal()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVICE_UNREACHABLE', retryable: true, details: { serviceId: 'gone', libraryCode: 'ECONNREFUSED' } });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it("the caller's signal aborts a call in flight: ABORTED, and the service sees the request go away", async () => {
    let closed!: () => void;
    const requestClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = await serve((req, _body, res) => {
      res.on('close', closed);
      void req;
    });
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    const controller = new AbortController();
    const call = speech.transcribe(ref(server), asrRequest, controller.signal);
    while (server.requests.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort(new Error('deadline'));
    await expect(call).rejects.toMatchObject({ code: 'ABORTED', retryable: false });
    await requestClosed;
  });

  it('forget() drops the connections of a service; a new origin for the same id gets a new pool; close() refuses further calls', async () => {
    const first = await serve((_req, _body, res) => json(res, 200, { text: 'a' }));
    const moved = await serve((_req, _body, res) => json(res, 200, { text: 'b' }));
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    for (let i = 0; i < 10; i++) await speech.transcribe(ref(first), asrRequest, signal());
    // Kept alive: ten calls did not need ten connections, and they stay open between calls.
    expect(first.connections).toBeLessThan(10);
    expect(first.open).toBeGreaterThan(0);
    speech.forget('svc');
    await waitUntil(() => first.open === 0);
    expect(await speech.transcribe(ref(first), asrRequest, signal())).toMatchObject({ text: 'a' });
    // The same id at another origin (a restart on a new port): the old connections go.
    expect(await speech.transcribe(ref(moved), asrRequest, signal())).toMatchObject({ text: 'b' });
    await waitUntil(() => first.open === 0);
    await speech.close();
    await waitUntil(() => moved.open === 0);
    await expect(speech.transcribe(ref(moved), asrRequest, signal())).rejects.toMatchObject({ code: 'SPEECH_CLOSED' });
  });
  it('a call still in flight to the old origin finishes when the service moves (a version switch with no gap)', async () => {
    let answerOld: (() => void) | undefined;
    const old = await serve((_req, _body, res) => {
      answerOld = () => json(res, 200, { text: 'old' });
    });
    const moved = await serve((_req, _body, res) => json(res, 200, { text: 'new' }));
    speech = createSpeechHttpAdapter({}, { logger: silentLogger() });
    const slow = speech.transcribe(ref(old), asrRequest, signal());
    await waitUntil(() => answerOld !== undefined);
    // The registry points at the new version now: new calls go there, the old call is not cut.
    expect(await speech.transcribe(ref(moved), asrRequest, signal())).toMatchObject({ text: 'new' });
    answerOld!();
    expect(await slow).toMatchObject({ text: 'old' });
    // Then the old pool goes away with its connections.
    await waitUntil(() => old.open === 0);
  });
});
