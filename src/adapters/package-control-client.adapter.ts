/** The `linguamesh pkg` client of a node's package control endpoint (undici). */
import { request } from 'undici';
import type { z } from 'zod';
import { KernelError } from '../kernel/errors.js';
import {
  AvailablePackagesResponseSchema,
  InstalledPackagesResponseSchema,
  PackageOperationResponseSchema,
} from '../protocol/package-control.schema.js';
import type { AvailablePackage, InstalledPackage, PackageOperation, PackageOperationKind } from '../protocol/package-control.schema.js';

export interface PackageControlClient {
  list(): Promise<InstalledPackage[]>;
  available(): Promise<AvailablePackage[]>;
  begin(kind: PackageOperationKind, serviceId: string, version?: string): Promise<PackageOperation>;
  operation(operationId: string): Promise<PackageOperation>;
}

export function createPackageControlClient(baseUrl: string): PackageControlClient {
  const base = baseUrl.replace(/\/+$/, '');
  async function call<T extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: T, body?: unknown): Promise<z.output<T>> {
    let res;
    try {
      res = await request(`${base}${path}`, {
        method,
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
    } catch (err) {
      throw new KernelError('NODE_UNREACHABLE', `cannot reach the node at ${base}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, retryable: true });
    }
    const json: unknown = await res.body.json().catch(() => undefined);
    if (res.statusCode >= 300) {
      const shaped = json as { code?: unknown; error?: unknown } | undefined;
      throw new KernelError(typeof shaped?.code === 'string' ? shaped.code : 'NODE_REQUEST_FAILED', typeof shaped?.error === 'string' ? shaped.error : `the node answered ${res.statusCode}`, { details: { status: res.statusCode } });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new KernelError('INVALID_MESSAGE', `unexpected answer from the node for ${path}`);
    return parsed.data;
  }
  return {
    list: async () => (await call('GET', '/api/packages', InstalledPackagesResponseSchema)).packages,
    available: async () => (await call('GET', '/api/packages/available', AvailablePackagesResponseSchema)).services,
    begin: async (kind, serviceId, version) => (await call('POST', `/api/packages/${kind}`, PackageOperationResponseSchema, { service_id: serviceId, ...(version !== undefined ? { version } : {}) })).operation,
    operation: async (id) => (await call('GET', `/api/packages/operations/${encodeURIComponent(id)}`, PackageOperationResponseSchema)).operation,
  };
}
