/**
 * The one small HTTP server the roles share for JSON APIs (node control endpoint, scheduler API):
 * routes are data (`HttpRoute`), errors become JSON bodies with a stable code, bodies are bounded.
 * A role that also upgrades to WebSocket passes `onUpgrade`; one that streams files passes `fallback`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isKernelError, KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { HttpMethod, HttpRequest, HttpResponse, HttpRoute, HttpServerHandle } from '../kernel/ports/http.port.js';

export interface HttpServerOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  routes: HttpRoute[];
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Time to wait for in-flight requests at close before destroying sockets, in ms. Default 5 000. */
  closeTimeoutMs?: number;
  /** Handles requests no route matched (file streaming); default answers 404 JSON. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Receives WebSocket upgrade requests; without it upgrades are refused. */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Checked before every route and upgrade; answering a response refuses the request. */
  guard?: (req: IncomingMessage) => HttpResponse | undefined;
  logger?: Logger;
}

interface CompiledRoute {
  route: HttpRoute;
  pattern: RegExp;
  names: string[];
}

function compile(route: HttpRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

export function writeResponse(res: ServerResponse, response: HttpResponse, method = 'GET'): void {
  const headers: Record<string, string> = { ...(response.headers ?? {}) };
  let body: string | undefined;
  if (response.json !== undefined) {
    body = JSON.stringify(response.json);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (response.text !== undefined) {
    body = response.text;
    headers['content-type'] ??= response.contentType ?? 'text/plain; charset=utf-8';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(response.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      reject(new KernelError('PAYLOAD_TOO_LARGE', `body of ${declared} bytes exceeds ${maxBytes}`, { details: { maxBytes } }));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new KernelError('PAYLOAD_TOO_LARGE', `body exceeds ${maxBytes} bytes`, { details: { maxBytes } }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', (err) => reject(new KernelError('REQUEST_ABORTED', 'request body was not received', { cause: err })));
  });
}

function statusOf(code: string): number {
  switch (code) {
    case 'INVALID_MESSAGE':
      return 400;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'UNAUTHORIZED':
      return 401;
    default:
      return 500;
  }
}

/** Shared by every upgraded socket (EventEmitter calls it with the socket as `this`): no closure each. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const routes = options.routes.map(compile);
  const log = options.logger;

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase() as HttpMethod;
    const refused = options.guard?.(req);
    if (refused) {
      writeResponse(res, refused, method);
      return;
    }
    let matchedPath = false;
    for (const { route, pattern, names } of routes) {
      const match = pattern.exec(url.pathname);
      if (!match) continue;
      matchedPath = true;
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const params: Record<string, string> = {};
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1] ?? '');
      });
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort(new KernelError('REQUEST_ABORTED', 'client went away'));
      });
      const request: HttpRequest = {
        method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers as Record<string, string | undefined>,
        signal: controller.signal,
        json: async () => {
          const body = await readBody(req, maxBodyBytes);
          if (body.length === 0) return undefined;
          try {
            return JSON.parse(body.toString('utf8')) as unknown;
          } catch (err) {
            throw new KernelError('INVALID_MESSAGE', 'body is not valid JSON', { cause: err });
          }
        },
      };
      try {
        writeResponse(res, await route.handle(request), method);
      } catch (err) {
        const error = isKernelError(err) ? err : new KernelError('INTERNAL_ERROR', 'internal error', { cause: err });
        if (!isKernelError(err)) log?.error({ err, path: url.pathname }, 'route handler failed');
        if (!res.headersSent) writeResponse(res, { status: statusOf(error.code), json: { error: error.message, code: error.code, ...(error.details ? { details: error.details } : {}) } }, method);
        else res.destroy();
      }
      return;
    }
    if (options.fallback && (await options.fallback(req, res))) return;
    writeResponse(res, matchedPath ? { status: 405, json: { error: 'method not allowed', code: 'METHOD_NOT_ALLOWED' } } : { status: 404, json: { error: 'not found', code: 'NOT_FOUND' } }, method);
  };

  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      log?.error({ err }, 'http handler failed');
      if (!res.headersSent) writeResponse(res, { status: 500, json: { error: 'internal error', code: 'INTERNAL_ERROR' } });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const refused = options.guard?.(req);
    if (refused || !options.onUpgrade) {
      const status = refused?.status ?? 404;
      const extra = Object.entries(refused?.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    options.onUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new KernelError(err.code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'LISTEN_FAILED', `cannot listen on ${host}:${options.port}: ${err.message}`, { cause: err, details: { host, port: options.port } })));
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeoutMs ?? 5_000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
