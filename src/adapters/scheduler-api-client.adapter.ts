/**
 * Client of the scheduler's operator API over undici (what `linguamesh status` reads): nodes,
 * pools and dispatch. Answers are parsed at the door; a refused connection becomes
 * SCHEDULER_UNREACHABLE, a 401 UNAUTHORIZED, and an error answer a KernelError with the
 * scheduler's own code.
 */
import { request } from 'undici';
import type { z } from 'zod';
import { KernelError } from '../kernel/errors.js';
import { ApiDispatchBodySchema, ApiErrorBodySchema, ApiNodesBodySchema, ApiPoolsBodySchema } from '../protocol/scheduler-api.schema.js';
import type { ApiDispatchBody, ApiNodesBody, ApiPoolsBody } from '../protocol/scheduler-api.schema.js';
import { parseWith } from '../protocol/validation.js';

export interface SchedulerApiClientOptions {
  /** `http://host:port` of the scheduler. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` (PROTOCOL.md §1.2). */
  authToken?: string | undefined;
  /** Longest wait for one answer, in ms. */
  requestTimeoutMs: number;
}

export { DEFAULT_SCHEDULER_API_CLIENT_OPTIONS } from './scheduler-api-client.defaults.js';

export interface SchedulerApiClient {
  nodes(signal: AbortSignal): Promise<ApiNodesBody>;
  pools(pipeline: 'speech' | 'text', signal: AbortSignal): Promise<ApiPoolsBody>;
  /** `undefined` when the scheduler serves no dispatch API (404). */
  dispatch(signal: AbortSignal): Promise<ApiDispatchBody | undefined>;
}

export function createSchedulerApiClient(options: SchedulerApiClientOptions): SchedulerApiClient {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.authToken) headers.authorization = `Bearer ${options.authToken}`;

  const get = async <T extends z.ZodType>(path: string, schema: T, signal: AbortSignal, absentOn404 = false): Promise<z.output<T> | undefined> => {
    let statusCode: number;
    let text: string;
    try {
      const res = await request(new URL(path, options.baseUrl), { method: 'GET', headers, signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs)]) });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const errno = (err as { code?: string }).code;
      throw new KernelError('SCHEDULER_UNREACHABLE', `cannot reach the scheduler at ${options.baseUrl}: ${errno ?? (err as Error).message}`, {
        cause: err,
        retryable: true,
        details: { url: options.baseUrl, ...(errno ? { errno } : {}) },
      });
    }
    if (statusCode === 401) throw new KernelError('UNAUTHORIZED', `the scheduler at ${options.baseUrl} refused the request: give the right --auth-token`, { details: { status: 401 } });
    if (statusCode === 404 && absentOn404) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new KernelError('INVALID_MESSAGE', `${path} answered ${statusCode} with a body that is not JSON (is ${options.baseUrl} a linguamesh scheduler?)`, { cause: err, details: { path, status: statusCode } });
    }
    if (statusCode < 200 || statusCode >= 300) {
      const failure = parseWith(ApiErrorBodySchema, json, 'error answer');
      if (failure.ok) throw new KernelError(failure.value.code, failure.value.error, { details: { path, status: statusCode, ...failure.value.details } });
      throw new KernelError('SCHEDULER_API_FAILED', `${path} answered ${statusCode}`, { details: { path, status: statusCode } });
    }
    const parsed = parseWith(schema, json, `${path} answer`);
    if (!parsed.ok) throw parsed.error;
    return parsed.value;
  };

  return {
    nodes: async (signal) => (await get('/api/v1/nodes', ApiNodesBodySchema, signal))!,
    pools: async (pipeline, signal) => (await get(`/api/v1/pools?pipeline=${pipeline}`, ApiPoolsBodySchema, signal))!,
    dispatch: (signal) => get('/api/v1/dispatch', ApiDispatchBodySchema, signal, true),
  };
}
