/**
 * Where a service reads its settings: its own `service.json` (next to the running bundle) and the
 * environment the node starts it with (PROTOCOL.md §9.8). A bad value stops the service at start,
 * before it listens, instead of failing the first request.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const ManifestSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  version: z.string().optional(),
  type: z.string().min(1),
  port: z.number().int().min(0).max(65_535).optional(),
});

/** The part of `service.json` (PROTOCOL.md §9.7) a running service needs. */
export type ServiceManifest = z.infer<typeof ManifestSchema>;

export async function readServiceManifest(url: URL): Promise<ServiceManifest> {
  const raw: unknown = JSON.parse(await readFile(url, 'utf8'));
  return ManifestSchema.parse(raw);
}

/** Limits shared by every reference service; each can be set from the environment. */
export interface ServiceLimits {
  /** Largest request body accepted, in bytes (`SERVICE_MAX_BODY_BYTES`). */
  maxBodyBytes: number;
  /** Work requests handled at once (`SERVICE_MAX_IN_FLIGHT`). */
  maxInFlight: number;
  /** Work requests allowed to wait for a slot; beyond it the answer is 503 (`SERVICE_MAX_QUEUE`). */
  maxQueue: number;
  /** Value of `Retry-After` on a 503, in seconds (`SERVICE_RETRY_AFTER_S`). */
  retryAfterS: number;
  /** Time given to in-flight requests after SIGTERM, in ms (`SERVICE_SHUTDOWN_TIMEOUT_MS`). */
  shutdownTimeoutMs: number;
  /** Longest a single engine call may run, in ms (`SERVICE_ENGINE_TIMEOUT_MS`). */
  engineTimeoutMs: number;
}

export const DEFAULT_SERVICE_LIMITS = {
  maxBodyBytes: 20 * 1024 * 1024,
  maxInFlight: 2,
  maxQueue: 16,
  retryAfterS: 1,
  shutdownTimeoutMs: 5_000,
  engineTimeoutMs: 15_000,
} satisfies ServiceLimits;

export interface ServiceConfig {
  host: string;
  port: number;
  limits: ServiceLimits;
}

/** Reads a non-negative integer from the environment; absent or empty gives the fallback. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

export function readServiceConfig(env: NodeJS.ProcessEnv, manifest: ServiceManifest, defaults: Partial<ServiceLimits> = {}): ServiceConfig {
  const base = { ...DEFAULT_SERVICE_LIMITS, ...defaults };
  // PROTOCOL.md §9.8: PORT wins, then SERVICE_PORT, then the service.json port.
  const port = envInt(env, 'PORT', envInt(env, 'SERVICE_PORT', manifest.port ?? 0));
  if (port > 65_535) throw new Error(`PORT out of range: ${port}`);
  return {
    host: env.HOST?.trim() || '127.0.0.1',
    port,
    limits: {
      maxBodyBytes: envInt(env, 'SERVICE_MAX_BODY_BYTES', base.maxBodyBytes, 1),
      maxInFlight: envInt(env, 'SERVICE_MAX_IN_FLIGHT', base.maxInFlight, 1),
      maxQueue: envInt(env, 'SERVICE_MAX_QUEUE', base.maxQueue),
      retryAfterS: envInt(env, 'SERVICE_RETRY_AFTER_S', base.retryAfterS),
      shutdownTimeoutMs: envInt(env, 'SERVICE_SHUTDOWN_TIMEOUT_MS', base.shutdownTimeoutMs),
      engineTimeoutMs: envInt(env, 'SERVICE_ENGINE_TIMEOUT_MS', base.engineTimeoutMs, 1),
    },
  };
}
