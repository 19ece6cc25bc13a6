/**
 * Client of a node's loopback control endpoint over undici (what `linguamesh node services …`
 * calls). Answers are parsed at the door; error answers become KernelErrors with the node's code.
 */
import { request } from 'undici';
import { KernelError } from '../kernel/errors.js';
import { NodeControlErrorBodySchema, ServiceListBodySchema, ServiceStateBodySchema } from '../protocol/node-control.schema.js';
import type { ServiceControlAction, ServiceStateBody } from '../protocol/node-control.schema.js';
import { parseWith } from '../protocol/validation.js';
import type { z } from 'zod';

export interface NodeControlClient {
  listServices(signal: AbortSignal): Promise<ServiceStateBody[]>;
  serviceAction(id: string, action: ServiceControlAction, signal: AbortSignal): Promise<ServiceStateBody>;
}

export function createNodeControlClient(options: { baseUrl: string }): NodeControlClient {
  const call = async <T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, signal: AbortSignal): Promise<z.output<T>> => {
    let statusCode: number;
    let text: string;
    try {
      const res = await request(new URL(path, options.baseUrl), { method, signal, headers: { accept: 'application/json' } });
      statusCode = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new KernelError('NODE_UNREACHABLE', `cannot reach the node at ${options.baseUrl}: ${code ?? (err as Error).message}`, { cause: err, retryable: true });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new KernelError('INVALID_MESSAGE', `the node answered ${statusCode} with a body that is not JSON`, { cause: err });
    }
    if (statusCode < 200 || statusCode >= 300) {
      const failure = parseWith(NodeControlErrorBodySchema, json, 'error answer');
      if (failure.ok) throw new KernelError(failure.value.code, failure.value.error, { ...(failure.value.details ? { details: failure.value.details } : {}) });
      throw new KernelError('NODE_CONTROL_FAILED', `the node answered ${statusCode}`);
    }
    const parsed = parseWith(schema, json, 'control answer');
    if (!parsed.ok) throw parsed.error;
    return parsed.value;
  };
  return {
    listServices: async (signal) => (await call('GET', '/api/services', ServiceListBodySchema, signal)).services,
    serviceAction: (id, action, signal) => call('POST', `/api/services/${encodeURIComponent(id)}/${action}`, ServiceStateBodySchema, signal),
  };
}
