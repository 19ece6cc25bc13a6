/**
 * Health probes of local services over undici (ServiceHealthPort). One undici Agent pools the
 * connections per service origin; the caller's signal is the deadline. The §9.1 rules decide:
 * 2xx and a ready body (`isReadyHealthBody`); everything else is an answer "not ready" with a
 * short reason, never an exception.
 */
import { Agent, request } from 'undici';
import { AbortedError } from '../kernel/errors.js';
import type { HealthProbeResult, ServiceHealthPort } from '../kernel/ports/service-health.port.js';
import { isReadyHealthBody, ServiceHealthResponseSchema } from '../protocol/service-api.schema.js';
import { parseWith } from '../protocol/validation.js';

export interface ServiceHealthAdapterOptions {
  /** Largest health body read, in bytes; a longer body is not ready. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Idle time before a pooled connection is closed, in ms. Default 4 000. */
  keepAliveMs?: number;
}

function reasonOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? ((err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code) : undefined;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  return typeof code === 'string' ? code : 'request failed';
}

function notReadyBody(body: string): string {
  try {
    const value = JSON.parse(body) as { status?: unknown };
    if (typeof value === 'object' && value !== null && typeof value.status === 'string') return `status ${value.status.slice(0, 40)}`;
  } catch {
    /* not JSON */
  }
  return 'body not ready';
}

export function createServiceHealthAdapter(options: ServiceHealthAdapterOptions = {}): ServiceHealthPort {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const keepAliveMs = options.keepAliveMs ?? 4_000;
  const agent = new Agent({ keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs, connections: 4 });
  let closing: Promise<void> | undefined;

  return {
    async probe({ baseUrl, endpoint, method }, signal): Promise<HealthProbeResult> {
      let text: string;
      let statusCode: number;
      try {
        const res = await request(new URL(endpoint, baseUrl), {
          method: method.toUpperCase() as 'GET',
          signal,
          dispatcher: agent,
          headers: { accept: 'application/json, text/plain' },
        });
        statusCode = res.statusCode;
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBodyBytes) {
            res.body.destroy();
            return { ready: false, reason: 'body too large' };
          }
          chunks.push(chunk);
        }
        text = Buffer.concat(chunks).toString('utf8');
      } catch (err) {
        if (signal.aborted) throw new AbortedError('health probe aborted', { cause: err });
        return { ready: false, reason: reasonOf(err) };
      }
      if (statusCode < 200 || statusCode >= 300) return { ready: false, reason: `HTTP ${statusCode}` };
      if (!isReadyHealthBody(text)) return { ready: false, reason: notReadyBody(text) };
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { ready: true };
      }
      const parsed = parseWith(ServiceHealthResponseSchema, json, 'health response');
      // A languages object of the wrong shape is ignored; the service is still ready.
      return parsed.ok && parsed.value.languages ? { ready: true, languages: parsed.value.languages } : { ready: true };
    },
    close() {
      closing ??= agent.close().catch(() => undefined);
      return closing;
    },
  };
}
