/**
 * Streams hub storage files with `send` (v1) under the Range rules of PROTOCOL.md §10.4.
 *
 * `send` gives streaming, `Content-Length`, `Accept-Ranges`, HEAD, single `bytes=` ranges with the
 * end clamped to the file, `bytes=S-` and suffix ranges, and `416` with `Content-Range: bytes
 * *` + `/size`. Where it differs from §10.4, the request is normalized before `send` sees it:
 * - several ranges: `send` merges overlapping/adjacent ones into one 206 (range-parser `combine`)
 *   and answers 416 when all are unsatisfiable; §10.4 wants the Range ignored → the header is removed;
 * - `bytes=-N` with N ≥ size: range-parser computes a negative start and `send` answers 416; §10.4
 *   wants the whole file as a 206 → rewritten to `bytes=0-`;
 * - `If-Range`: `send` accepts any header that merely *contains* the ETag (so `W/"…"` matches) and
 *   compares dates against `Last-Modified`; §10.4 wants a strong exact match, anything else ignoring
 *   the Range → evaluated here, and the Range removed on mismatch;
 * - `If-None-Match`: `send` skips it when the request carries `Cache-Control: no-cache`; §10.4 does
 *   not → answered here (304 with the ETag, weak comparison as RFC 9110 asks for this header);
 * - ETag: `send`'s own is weak (size + mtime); ours is the quoted sha256 from the catalogue, and
 *   files without a known hash get none (`etag: false`), so no If-Range can ever match them;
 * - errors: `send` writes HTML; with an `error` listener we answer JSON (`{"detail": …}`) and keep
 *   the `Content-Range` of the 416.
 * `If-Match`/`If-Unmodified-Since` are left to `send` (412), which §10.4 does not cover.
 */
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { Counter, Registry } from 'prom-client';
import send from 'send';
import type { Logger } from '../kernel/logger.js';
import type { StorageAnswer, StorageFile } from '../kernel/ports/hub-storage.port.js';

export interface HubMetrics {
  readonly registry: Registry;
  fileResponse(counter: StorageFile['counter'], status: number): void;
  bytesSent(counter: StorageFile['counter'], bytes: number): void;
}

/** Prometheus counters of the hub's file responses (a registry per hub, so several hubs can share a process). */
export function createHubMetrics(): HubMetrics {
  const registry = new Registry();
  const responses = new Counter({ name: 'linguamesh_hub_file_responses_total', help: 'Storage file responses by status', labelNames: ['kind', 'status'], registers: [registry] });
  const bytes = new Counter({ name: 'linguamesh_hub_file_bytes_sent_total', help: 'Storage file bytes streamed to clients', labelNames: ['kind'], registers: [registry] });
  return {
    registry,
    fileResponse: (kind, status) => responses.inc({ kind, status: String(status) }),
    bytesSent: (kind, n) => bytes.inc({ kind }, n),
  };
}

function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(head ? undefined : text);
}

/** RFC 9110 entity-tag list (`"a", W/"b"`) or `*`. */
function matchesAny(header: string, etag: string, weak: boolean): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((raw) => {
    const tag = raw.trim();
    return tag === etag || (weak && tag === `W/${etag}`);
  });
}

/** §10.4 Range normalization (see the module comment); mutates `req.headers`. */
export function normalizeRangeRequest(headers: IncomingMessage['headers'], size: number, etag: string | undefined): void {
  const range = headers.range;
  const rawIfRange: string | string[] | undefined = headers['if-range'];
  const ifRange = Array.isArray(rawIfRange) ? rawIfRange.join(', ') : rawIfRange;
  delete headers['if-range'];
  if (range === undefined) return;
  if (ifRange !== undefined && (etag === undefined || ifRange.trim() !== etag)) {
    delete headers.range;
    return;
  }
  if (!/^\s*bytes=/.test(range) || range.includes(',')) {
    delete headers.range;
    return;
  }
  const suffix = /^\s*bytes=\s*-\s*(\d+)\s*$/.exec(range);
  if (suffix && Number(suffix[1]) >= size && Number(suffix[1]) > 0) headers.range = 'bytes=0-';
}

export interface StorageFallbackOptions {
  /** Absolute storage root: a file resolving outside it (through a symbolic link) is refused with 403. */
  root: string;
  resolve: (rawPath: string, signal: AbortSignal) => Promise<StorageAnswer>;
  metrics: HubMetrics;
  logger: Logger;
}

async function inside(root: string, file: string): Promise<string | 'outside' | 'missing'> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    return realFile.startsWith(realRoot + sep) ? realFile : 'outside';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw err;
  }
}

async function serveFile(req: IncomingMessage, res: ServerResponse, file: StorageFile, options: StorageFallbackOptions): Promise<void> {
  const head = req.method === 'HEAD';
  const located = await inside(options.root, file.path);
  if (located === 'outside') return writeJson(res, 403, { detail: 'Forbidden' }, {}, head);
  if (located === 'missing') return writeJson(res, 404, { detail: file.missingDetail }, {}, head);
  const stats = await stat(located);
  if (!stats.isFile()) return writeJson(res, 404, { detail: file.missingDetail }, {}, head);

  if (file.etag !== undefined) res.setHeader('ETag', file.etag);
  res.setHeader('Content-Type', file.contentType);
  if (file.filename !== undefined) res.setHeader('Content-Disposition', `attachment; filename="${file.filename}"`);
  const ifNoneMatch = req.headers['if-none-match'];
  delete req.headers['if-none-match'];
  delete req.headers['if-modified-since'];
  if (ifNoneMatch !== undefined && file.etag !== undefined && matchesAny(ifNoneMatch, file.etag, true)) {
    res.statusCode = 304;
    res.removeHeader('Content-Type');
    res.removeHeader('Content-Disposition');
    options.metrics.fileResponse(file.counter, 304);
    res.end();
    return;
  }
  normalizeRangeRequest(req.headers, stats.size, file.etag);

  await new Promise<void>((resolve) => {
    // send() decodes the path it is given; encode each segment so file names with `%` survive.
    const encoded = located.split(sep).map(encodeURIComponent).join('/');
    const stream = send(req, encoded, { etag: false, lastModified: false, cacheControl: false, acceptRanges: true, dotfiles: 'allow', index: false });
    stream.on('error', (err: { status?: number; headers?: Record<string, string> }) => {
      const status = err.status ?? 500;
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const detail = status === 416 ? 'Range Not Satisfiable' : status === 404 ? file.missingDetail : status === 412 ? 'Precondition Failed' : 'Internal Server Error';
      const contentRange = err.headers?.['Content-Range'];
      writeJson(res, status, { detail }, contentRange !== undefined ? { 'content-range': contentRange } : {}, head);
    });
    stream.on('stream', (body: NodeJS.ReadableStream) => {
      body.on('data', (chunk: Buffer) => options.metrics.bytesSent(file.counter, chunk.length));
    });
    res.on('close', () => {
      options.metrics.fileResponse(file.counter, res.statusCode);
      options.logger.debug({ path: req.url, status: res.statusCode, range: req.headers.range, complete: res.writableFinished }, 'storage response');
      resolve();
    });
    stream.pipe(res);
  });
}

/**
 * The `fallback` of the hub's HTTP server: `/storage/…` files, and the `{"detail":"Not Found"}`
 * 404 for every other path no JSON route matched.
 */
export function createStorageFallback(options: StorageFallbackOptions): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const head = req.method === 'HEAD';
    if (!rawPath.startsWith('/storage/')) {
      writeJson(res, 404, { detail: 'Not Found' }, {}, head);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeJson(res, 405, { detail: 'Method Not Allowed' }, { allow: 'GET, HEAD' });
      return true;
    }
    const controller = new AbortController();
    res.on('close', () => controller.abort());
    const answer = await options.resolve(rawPath, controller.signal);
    switch (answer.kind) {
      case 'json':
        writeJson(res, answer.status, answer.json, {}, head);
        return true;
      case 'redirect':
        res.writeHead(302, { location: answer.location, 'content-length': '0' });
        res.end();
        return true;
      case 'file':
        await serveFile(req, res, answer, options);
        return true;
      default: {
        const never: never = answer;
        return never;
      }
    }
  };
}
