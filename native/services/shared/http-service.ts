/**
 * The HTTP skeleton every reference service shares (PROTOCOL.md §9.1): routing, JSON error bodies
 * `{detail, code}`, a body-size limit, bounded concurrency (503 + `Retry-After`), the health state
 * (`not_ready` until the engine answered its warm-up) and a graceful close.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConcurrencyGate } from './concurrency-gate.js';
import { parseJson, readBody } from './http-body.js';
import { ServiceError, isServiceError } from './service-error.js';
import type { ServiceLimits } from './service-config.js';
import type { ServiceLog } from './service-log.js';

export interface RouteContext {
  /** The parsed JSON body of a POST (`undefined` for GET). */
  body: unknown;
  /** Aborted when the client goes away or the service stops waiting for it. */
  signal: AbortSignal;
}

export type RouteResult =
  | { kind: 'json'; status?: number; body: unknown }
  | { kind: 'bytes'; status?: number; body: Buffer; contentType: string };

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** Work routes need a warmed engine and a concurrency slot; light routes (lists) need neither. */
  work: boolean;
  handle(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

export interface HttpServiceOptions {
  log: ServiceLog;
  limits: ServiceLimits;
  routes: readonly Route[];
  /** Path of the health check (service.json `health_check.endpoint`). Default `/health`. */
  healthPath?: string;
}

type HealthState = { kind: 'loading' } | { kind: 'ready'; extra: Record<string, unknown> } | { kind: 'failed'; detail: string };

const JSON_TYPE = 'application/json; charset=utf-8';

export class HttpService {
  readonly #options: HttpServiceOptions;
  readonly #server: Server;
  readonly #gate: ConcurrencyGate;
  readonly #active = new Set<Promise<void>>();
  #health: HealthState = { kind: 'loading' };
  #closing: Promise<void> | undefined;

  constructor(options: HttpServiceOptions) {
    this.#options = options;
    this.#gate = new ConcurrencyGate({ maxInFlight: options.limits.maxInFlight, maxQueue: options.limits.maxQueue });
    this.#server = createServer((req, res) => {
      const task = this.#handle(req, res).catch((err: unknown) => options.log.error({ err }, 'request handler failed'));
      this.#active.add(task);
      void task.finally(() => this.#active.delete(task));
    });
    this.#server.on('clientError', (err, socket) => {
      // Even a request the HTTP parser rejects gets the JSON error body every other answer has.
      const body = JSON.stringify({ detail: 'malformed HTTP request', code: 'INVALID_REQUEST' });
      const head = `HTTP/1.1 400 Bad Request\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
      if (socket.writable) socket.end(head + body);
      options.log.debug({ err }, 'malformed HTTP request');
    });
  }

  get ready(): boolean {
    return this.#health.kind === 'ready';
  }

  /** Marks the engine warm: health answers `200 {"status":"ok", …extra}` from now on. */
  setReady(extra: Record<string, unknown>): void {
    this.#health = { kind: 'ready', extra };
  }

  /** The engine could not start: health stays non-2xx so the node stops the service (§9.1). */
  setFailed(detail: string): void {
    this.#health = { kind: 'failed', detail };
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting, lets in-flight requests finish within `shutdownTimeoutMs`, then drops every
   * connection. Idempotent: a second call returns the first call's promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.limits.shutdownTimeoutMs);
    });
    const drained = Promise.all([...this.#active]).then(() => 'drained' as const);
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.#options.log.warn({ active: this.#active.size }, 'shutdown timeout: dropping in-flight requests');
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
    });
    try {
      const result = await this.#dispatch(req, controller.signal);
      this.#send(res, result);
    } catch (err) {
      this.#sendError(res, err);
    }
  }

  async #dispatch(req: IncomingMessage, signal: AbortSignal): Promise<RouteResult> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === (this.#options.healthPath ?? '/health') && req.method === 'GET') return this.#healthResult();
    const candidates = this.#options.routes.filter((r) => r.path === path);
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      req.resume();
      if (candidates.length === 0) throw new ServiceError(404, 'NOT_FOUND', `no route ${path}`);
      throw new ServiceError(405, 'METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on ${path}`);
    }
    if (this.#closing) {
      req.resume();
      throw new ServiceError(503, 'SHUTTING_DOWN', 'service is shutting down', { headers: this.#retryAfter() });
    }
    if (route.work && this.#health.kind !== 'ready') {
      req.resume();
      throw new ServiceError(503, 'NOT_READY', 'engine is not ready yet', { headers: this.#retryAfter() });
    }
    const body = route.method === 'POST' ? parseJson(await readBody(req, this.#options.limits.maxBodyBytes)) : (req.resume(), undefined);
    if (!route.work) return route.handle({ body, signal });
    const slot = this.#gate.tryAcquire(signal);
    if (!slot) throw new ServiceError(503, 'SERVICE_BUSY', 'too many requests in flight', { headers: this.#retryAfter() });
    const release = await slot;
    try {
      return await route.handle({ body, signal });
    } finally {
      release();
    }
  }

  #healthResult(): RouteResult {
    switch (this.#health.kind) {
      case 'ready':
        return {
          kind: 'json',
          body: { status: 'ok', device: 'cpu', model_loaded: true, warmed: true, ...this.#health.extra, in_flight: this.#gate.inFlight, queued: this.#gate.queued },
        };
      case 'failed':
        return { kind: 'json', status: 503, body: { status: 'error', detail: this.#health.detail } };
      case 'loading':
        return { kind: 'json', status: 503, body: { status: 'not_ready' } };
      default: {
        const never: never = this.#health;
        return never;
      }
    }
  }

  #retryAfter(): Record<string, string> {
    return { 'Retry-After': String(this.#options.limits.retryAfterS) };
  }

  #send(res: ServerResponse, result: RouteResult): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string | number> = {};
    if (this.#closing) headers.Connection = 'close';
    let payload: Buffer;
    if (result.kind === 'json') {
      payload = Buffer.from(JSON.stringify(result.body));
      headers['Content-Type'] = JSON_TYPE;
    } else {
      payload = result.body;
      headers['Content-Type'] = result.contentType;
    }
    headers['Content-Length'] = payload.length;
    res.writeHead(result.status ?? 200, headers);
    res.end(payload);
  }

  #sendError(res: ServerResponse, err: unknown): void {
    if (res.destroyed) {
      // The client went away (its request was aborted); there is nobody to answer.
      this.#options.log.debug({ code: isServiceError(err) ? err.code : undefined }, 'client gone before the answer');
      return;
    }
    const error = isServiceError(err) ? err : new ServiceError(500, 'INTERNAL_ERROR', 'internal error', { cause: err });
    if (error.status >= 500 && error.status !== 503) this.#options.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
    else this.#options.log.debug({ code: error.code, status: error.status }, 'request refused');
    if (res.headersSent) return;
    const payload = Buffer.from(JSON.stringify({ detail: error.message, code: error.code }));
    const headers: Record<string, string | number> = { 'Content-Type': JSON_TYPE, 'Content-Length': payload.length, ...error.headers };
    // A 413 is sent before the whole upload is read; closing tells the client not to reuse the socket.
    if (this.#closing || error.status === 413) headers.Connection = 'close';
    res.writeHead(error.status, headers);
    res.end(payload);
  }
}
