/**
 * The node control endpoint's package routes (used by `linguamesh pkg …`). Mutating requests answer
 * `202 {operation}` at once; the caller polls `GET /api/packages/operations/{operation_id}`.
 */
import type { z } from 'zod';
import { isKernelError } from '../../kernel/errors.js';
import type { HttpRequest, HttpResponse, HttpRoute } from '../../kernel/ports/http.port.js';
import { PackageRefRequestSchema, PackageUseRequestSchema } from '../../protocol/package-control.schema.js';
import type { AvailablePackagesResponse, InstalledPackagesResponse, PackageOperationResponse } from '../../protocol/package-control.schema.js';
import { parseWith } from '../../protocol/validation.js';
import type { PackageManager } from './package-manager.actor.js';

const STATUS_OF_CODE: Record<string, number> = {
  INVALID_PARAMETER: 400,
  INVALID_MESSAGE: 400,
  NOT_INSTALLED: 404,
  VERSION_NOT_INSTALLED: 404,
  TOO_MANY_OPERATIONS: 429,
  SHUTTING_DOWN: 503,
  HUB_UNREACHABLE: 502,
};

function failure(err: unknown): HttpResponse {
  if (!isKernelError(err)) throw err;
  return { status: STATUS_OF_CODE[err.code] ?? 500, json: { error: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) } };
}

async function accepted(run: () => PackageOperationResponse['operation']): Promise<HttpResponse> {
  try {
    return { status: 202, json: { operation: run() } satisfies PackageOperationResponse };
  } catch (err) {
    return failure(err);
  }
}

/** The request body, parsed at the door; a bad one is a 400 (INVALID_MESSAGE) from the server adapter. */
async function body<T extends z.ZodType>(req: HttpRequest, schema: T, what: string): Promise<z.output<T>> {
  const parsed = parseWith(schema, await req.json(), what);
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

export function packageRoutes(manager: PackageManager): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/packages',
      handle: async (req) => ({ status: 200, json: { packages: await manager.list(req.signal) } satisfies InstalledPackagesResponse }),
    },
    {
      method: 'GET',
      path: '/api/packages/available',
      handle: async (req) => {
        try {
          return { status: 200, json: { services: await manager.available(req.signal) } satisfies AvailablePackagesResponse };
        } catch (err) {
          return failure(err);
        }
      },
    },
    {
      method: 'GET',
      path: '/api/packages/operations/:operationId',
      handle: (req) => {
        const operation = manager.operation(req.params.operationId ?? '');
        return operation ? { status: 200, json: { operation } satisfies PackageOperationResponse } : { status: 404, json: { error: 'no such operation', code: 'NOT_FOUND' } };
      },
    },
    {
      method: 'POST',
      path: '/api/packages/install',
      handle: async (req) => {
        const request = await body(req, PackageRefRequestSchema, 'install request');
        return accepted(() => manager.begin('install', request.service_id, request.version));
      },
    },
    {
      method: 'POST',
      path: '/api/packages/uninstall',
      handle: async (req) => {
        const request = await body(req, PackageRefRequestSchema, 'uninstall request');
        return accepted(() => manager.begin('uninstall', request.service_id, request.version));
      },
    },
    {
      method: 'POST',
      path: '/api/packages/use',
      handle: async (req) => {
        const request = await body(req, PackageUseRequestSchema, 'use request');
        return accepted(() => manager.begin('use', request.service_id, request.version));
      },
    },
  ];
}
