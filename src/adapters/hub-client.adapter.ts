/**
 * The node's HTTP client of the model hub (PROTOCOL.md §10), over one undici Pool. Downloads
 * resume (§10.9 step 2): the bytes of the partial file are hashed again, then `Range: bytes=<size>-`
 * with `If-Range: "<sha256>"` asks for the rest; `200` restarts the file from byte 0, `206`
 * appends, and `416` whose `Content-Range` total equals the size of the partial file means it was
 * complete (§10.4). The sha256 of the file is computed while it is written, so verifying it needs no
 * second read. A body that stops flowing for `stallTimeoutMs` (on the injected clock) aborts the
 * attempt with the retryable `DOWNLOAD_STALLED`; retrying is the caller's decision.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Clock, TimerId } from '../kernel/clock.js';
import { AbortedError, isKernelError, isRetryableHttpStatus, KernelError } from '../kernel/errors.js';
import type { HubClientPort, PackageDownloadRequest, PackageDownloadResult } from '../kernel/ports/hub-client.port.js';
import { ServiceChecksumSchema, ServiceDetailSchema, ServiceListResponseSchema, ServiceSignatureSchema } from '../protocol/hub-api.schema.js';

export interface HubClientOptions {
  /** Base URL of the hub, e.g. `http://hub.local:5000`. */
  baseUrl: string;
  clock: Clock;
  /** A download with no body bytes for this long is aborted (`DOWNLOAD_STALLED`), in ms. */
  stallTimeoutMs: number;
  /** Bound of one catalogue/checksum/signature request, in ms. */
  requestTimeoutMs: number;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

function unreachable(message: string, cause?: unknown): KernelError {
  return new KernelError('HUB_UNREACHABLE', message, { retryable: true, cause });
}

/** Library and socket errors → the KernelError family (STYLE.md §7). */
function translate(err: unknown, signal: AbortSignal, what: string): KernelError {
  if (isKernelError(err)) return err as KernelError;
  if (signal.aborted) return signal.reason instanceof KernelError ? signal.reason : new AbortedError(`${what} aborted`, { cause: err });
  const code = (err as { code?: string } | undefined)?.code ?? '';
  const causeCode = ((err as { cause?: { code?: string } } | undefined)?.cause?.code) ?? '';
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(causeCode) || (err as Error | undefined)?.name === 'AggregateError') {
    return unreachable(`${what}: the hub cannot be reached (${code || causeCode || 'network error'})`, err);
  }
  return new KernelError('HUB_REQUEST_FAILED', `${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

function statusError(status: number, what: string, notFoundCode: string): KernelError {
  if (status === 404) return new KernelError(notFoundCode, `${what}: not found on the hub`, { details: { status } });
  if (isRetryableHttpStatus(status)) return unreachable(`${what}: the hub answered ${status}`);
  return new KernelError('HUB_REQUEST_REFUSED', `${what}: the hub answered ${status}`, { details: { status } });
}

/** An AbortSignal that follows `outer` and also fires after `ms` on `clock`. */
function withDeadline(outer: AbortSignal, clock: Clock, ms: number, what: string): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(unreachable(`${what}: no answer within ${ms} ms`)), ms);
  return { signal: AbortSignal.any([outer, controller.signal]), clear: () => clock.clearTimeout(timer) };
}

/**
 * Writes the body to the partial file and hashes each chunk once it is on disk: progress reports
 * only bytes that a restart would find in the file (and never goes backwards).
 */
class PartialFileSink extends Writable {
  written = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly hash: Hash,
    private readonly onWritten: (written: number) => void,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    this.handle.writev(buffers).then(
      () => {
        for (const b of buffers) {
          this.hash.update(b);
          this.written += b.length;
        }
        this.onWritten(this.written);
        callback();
      },
      (err: Error) => callback(err),
    );
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function hashPrefix(path: string, hash: Hash, signal: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal }) as AsyncIterable<Buffer>) hash.update(chunk);
}

// `Content-Range` of a 206 (`bytes S-E/T`) or of a 416 (an asterisk, then `/T`).
function parseContentRange(value: string | string[] | undefined): { start?: number; total: number } | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const match = /^bytes (?:(\d+)-\d+|\*)\/(\d+)$/.exec(text?.trim() ?? '');
  if (!match) return undefined;
  return { ...(match[1] !== undefined ? { start: Number(match[1]) } : {}), total: Number(match[2]) };
}

export function createHubClient(options: HubClientOptions): HubClientPort & { readonly baseUrl: string } {
  const base = new URL(options.baseUrl);
  const pool = new Pool(base.origin, { connections: 8 });
  const prefix = base.pathname.replace(/\/+$/, '');
  const enc = encodeURIComponent;

  async function getJson<T extends z.ZodType>(path: string, schema: T, what: string, notFoundCode: string, signal: AbortSignal): Promise<z.output<T> | undefined> {
    const deadline = withDeadline(signal, options.clock, options.requestTimeoutMs, what);
    try {
      const res = await pool.request({ method: 'GET', path: `${prefix}${path}`, signal: deadline.signal, headers: { accept: 'application/json' } });
      if (res.statusCode === 404 && notFoundCode === '') {
        await res.body.dump();
        return undefined;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw statusError(res.statusCode, what, notFoundCode);
      }
      const parsed = schema.safeParse(await res.body.json());
      if (!parsed.success) throw new KernelError('HUB_INVALID_RESPONSE', `${what}: the hub's answer does not match PROTOCOL.md §10`, { details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) } });
      return parsed.data;
    } catch (err) {
      throw translate(err, deadline.signal, what);
    } finally {
      deadline.clear();
    }
  }

  async function download(request: PackageDownloadRequest, signal: AbortSignal): Promise<PackageDownloadResult> {
    const what = `downloading ${request.serviceId}@${request.version}`;
    const stall = new AbortController();
    const watched = AbortSignal.any([signal, stall.signal]);
    let timer: TimerId | undefined;
    const arm = () => {
      options.clock.clearTimeout(timer);
      timer = options.clock.setTimeout(
        () => stall.abort(new KernelError('DOWNLOAD_STALLED', `${what}: no bytes for ${options.stallTimeoutMs} ms`, { retryable: true })),
        options.stallTimeoutMs,
      );
    };
    try {
      await mkdir(dirname(request.file), { recursive: true });
      const resumedFrom = await sizeOf(request.file);
      const hash = createHash('sha256');
      if (resumedFrom > 0) await hashPrefix(request.file, hash, signal);
      request.onProgress?.(resumedFrom);
      arm();
      const headers: Record<string, string> = resumedFrom > 0 ? { range: `bytes=${resumedFrom}-`, 'if-range': `"${request.sha256}"` } : {};
      const res: Dispatcher.ResponseData = await pool.request({ method: 'GET', path: `${prefix}/storage/services/${enc(request.serviceId)}/${enc(request.version)}.zip`, headers, signal: watched });
      if (res.statusCode === 416) {
        await res.body.dump();
        const range = parseContentRange(res.headers['content-range']);
        // §10.4: 416 with `bytes */<size>` equal to the partial's size = the file is complete.
        if (range && range.total === resumedFrom) return { sizeBytes: resumedFrom, sha256: hash.digest('hex'), resumedFromBytes: resumedFrom, fetchedBytes: 0, status: 416 };
        await rm(request.file, { force: true });
        throw new KernelError('DOWNLOAD_RESTART', `${what}: the partial file does not fit the hub's file; starting over`, { retryable: true });
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        await res.body.dump();
        throw statusError(res.statusCode, what, 'VERSION_NOT_FOUND');
      }
      let start = 0;
      let digest = hash;
      if (res.statusCode === 206) {
        const range = parseContentRange(res.headers['content-range']);
        if (range?.start !== resumedFrom) {
          await res.body.dump();
          await rm(request.file, { force: true });
          throw new KernelError('DOWNLOAD_RESTART', `${what}: the hub resumed at another offset; starting over`, { retryable: true });
        }
        start = resumedFrom;
      } else {
        digest = createHash('sha256');
      }
      const handle = await open(request.file, start > 0 ? 'a' : 'w');
      const sink = new PartialFileSink(handle, digest, (written) => {
        arm();
        request.onProgress?.(start + written);
      });
      try {
        await pipeline(res.body, sink, { signal: watched });
      } finally {
        await handle.close();
      }
      return { sizeBytes: start + sink.written, sha256: digest.digest('hex'), resumedFromBytes: resumedFrom, fetchedBytes: sink.written, status: res.statusCode };
    } catch (err) {
      if (stall.signal.aborted && !signal.aborted) throw stall.signal.reason as KernelError;
      throw translate(err, signal, what);
    } finally {
      options.clock.clearTimeout(timer);
    }
  }

  return {
    baseUrl: base.toString(),
    async listServices(signal) {
      const body = await getJson('/api/services', ServiceListResponseSchema, 'listing the hub catalogue', 'HUB_REQUEST_REFUSED', signal);
      return body?.services ?? [];
    },
    async getService(serviceId, signal) {
      const body = await getJson(`/api/services/${enc(serviceId)}`, ServiceDetailSchema, `reading ${serviceId}`, 'SERVICE_NOT_FOUND', signal);
      if (!body) throw new KernelError('SERVICE_NOT_FOUND', `${serviceId} is not on the hub`);
      return body;
    },
    async getChecksum(serviceId, version, signal) {
      const body = await getJson(`/api/services/${enc(serviceId)}/${enc(version)}/checksum`, ServiceChecksumSchema, `reading the checksum of ${serviceId}@${version}`, 'VERSION_NOT_FOUND', signal);
      if (!body) throw new KernelError('VERSION_NOT_FOUND', `${serviceId}@${version} is not on the hub`);
      return body;
    },
    getSignature(serviceId, version, signal) {
      return getJson(`/api/services/${enc(serviceId)}/${enc(version)}/signature`, ServiceSignatureSchema, `reading the signature of ${serviceId}@${version}`, '', signal);
    },
    download,
    async close() {
      await pool.close();
    },
  };
}
