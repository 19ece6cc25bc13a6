/**
 * The node's package control endpoint (linguamesh extension, not part of the Lingua wire): the
 * bodies `linguamesh pkg list|available|install|uninstall|use` exchange with a running node.
 * Mutating requests start an operation and answer `202 {operation}`; the caller polls
 * `GET /api/packages/operations/{operation_id}` for its phase, progress and result.
 */
import { z } from 'zod';
import { HubVersionParamSchema, SemVerSchema } from './hub-api.schema.js';
import { ServiceIdSchema } from './ids.js';
import { Int, opt } from './validation.js';

/** `POST /api/packages/install` and `/uninstall`: a version is optional (`latest` / every version). */
export const PackageRefRequestSchema = z.object({
  service_id: ServiceIdSchema,
  version: opt(HubVersionParamSchema),
});
export type PackageRefRequest = z.infer<typeof PackageRefRequestSchema>;

/** `POST /api/packages/use`: an installed version. */
export const PackageUseRequestSchema = z.object({
  service_id: ServiceIdSchema,
  version: SemVerSchema,
});
export type PackageUseRequest = z.infer<typeof PackageUseRequestSchema>;

export const PackageOperationKindSchema = z.enum(['install', 'uninstall', 'use']);
export type PackageOperationKind = z.infer<typeof PackageOperationKindSchema>;

export const PackagePhaseSchema = z.enum(['resolve', 'download', 'verify', 'unpack', 'switch', 'start', 'rollback', 'remove']);
export type PackagePhase = z.infer<typeof PackagePhaseSchema>;

/** How an operation that succeeded changed the node. */
export const PackageOutcomeSchema = z.enum(['installed', 'switched', 'unchanged', 'uninstalled']);
export type PackageOutcome = z.infer<typeof PackageOutcomeSchema>;

export const PackageOperationSchema = z.object({
  operation_id: z.string(),
  kind: PackageOperationKindSchema,
  service_id: z.string(),
  /** The concrete version once resolved. */
  version: opt(z.string()),
  state: z.enum(['running', 'succeeded', 'failed']),
  phase: opt(PackagePhaseSchema),
  /** Progress of the current phase; never decreases within a phase. */
  bytes_done: Int,
  bytes_total: Int,
  outcome: opt(PackageOutcomeSchema),
  error: opt(z.object({ code: z.string(), message: z.string() })),
  /** RFC 3339. */
  started_at: z.string(),
  finished_at: opt(z.string()),
});
export type PackageOperation = z.infer<typeof PackageOperationSchema>;

/** `202` answer of the mutating requests. */
export const PackageOperationResponseSchema = z.object({ operation: PackageOperationSchema });
export type PackageOperationResponse = z.infer<typeof PackageOperationResponseSchema>;

export const InstalledPackageSchema = z.object({
  service_id: z.string(),
  active_version: opt(z.string()),
  /** Installed versions, highest first. */
  versions: z.array(z.string()),
});
export type InstalledPackage = z.infer<typeof InstalledPackageSchema>;

/** `GET /api/packages`. */
export const InstalledPackagesResponseSchema = z.object({ packages: z.array(InstalledPackageSchema) });
export type InstalledPackagesResponse = z.infer<typeof InstalledPackagesResponseSchema>;

export const AvailablePackageSchema = z.object({
  service_id: z.string(),
  service_name: z.string(),
  type: opt(z.string()),
  latest_version: z.string(),
  /** The hub's versions, highest first. */
  versions: z.array(z.string()),
  installed_versions: z.array(z.string()),
  active_version: opt(z.string()),
});
export type AvailablePackage = z.infer<typeof AvailablePackageSchema>;

/** `GET /api/packages/available`: the hub's catalogue, marked with what this node has. */
export const AvailablePackagesResponseSchema = z.object({ services: z.array(AvailablePackageSchema) });
export type AvailablePackagesResponse = z.infer<typeof AvailablePackagesResponseSchema>;

/** The `current.json` a node writes where symbolic links are unavailable (PROTOCOL.md §10.9 step 6). */
export const CurrentVersionFileSchema = z.object({ version: SemVerSchema });
export type CurrentVersionFile = z.infer<typeof CurrentVersionFileSchema>;
