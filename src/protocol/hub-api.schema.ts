/**
 * Model hub HTTP bodies (PROTOCOL.md §10): the service-package catalogue, checksums and
 * signatures, the legacy model API, and the small root/health/error bodies.
 */
import { z } from 'zod';
import { Int, opt } from './validation.js';

/** SemVer 2.0.0 (semver.org's recommended pattern). */
export const SEMVER_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
export const SemVerSchema = z.string().regex(SEMVER_PATTERN, 'must be SemVer 2.0.0');
/** The `{version}` path parameter: SemVer, or `latest` where a route allows it (§10.1). */
export const HubVersionParamSchema = z.union([z.literal('latest'), SemVerSchema]);

export function isSemVer(version: string): boolean {
  return SEMVER_PATTERN.test(version);
}

export function isSemVerOrLatest(version: string): boolean {
  return version === 'latest' || SEMVER_PATTERN.test(version);
}

/** 64 lower-case hex digits. */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

/** `GET /health` → `{"status":"OK"}` [compat]. */
export const HubHealthResponseSchema = z.object({ status: z.string() });
export type HubHealthResponse = z.infer<typeof HubHealthResponseSchema>;

/** `GET /` → `{message, version}` [compat]. */
export const HubRootResponseSchema = z.object({ message: z.string(), version: z.string() });
export type HubRootResponse = z.infer<typeof HubRootResponseSchema>;

/** Error body: `Invalid parameter`, `Service not found`, `Version not found`, `Model not found`, … */
export const HubErrorBodySchema = z.object({ detail: z.string() });
export type HubErrorBody = z.infer<typeof HubErrorBodySchema>;

/** One version in `GET /api/services` (§10.2). `created_at` is RFC 3339. */
export const ServiceVersionSummarySchema = z.object({
  version: z.string(),
  size_bytes: Int,
  created_at: opt(z.string()),
  stable: z.boolean(),
  /** [ext] */
  sha256: opt(z.string()),
});
export type ServiceVersionSummary = z.infer<typeof ServiceVersionSummarySchema>;

/** One service in `GET /api/services` (§10.2). Versions are sorted highest first. */
export const ServiceSummarySchema = z.object({
  service_id: z.string(),
  service_name: z.string(),
  /** Runtime label from `service.json`. */
  service_type: opt(z.string()),
  /** [ext] The ServiceType kind. */
  type: opt(z.string()),
  description: opt(z.string()),
  /** Highest stable version, else highest of all (§10.1). */
  latest_version: z.string(),
  versions: z.array(ServiceVersionSummarySchema),
});
export type ServiceSummary = z.infer<typeof ServiceSummarySchema>;

/** `GET /api/services` → `{services: [...]}`: the wrapper Lingua's dashboard needs [compat]. */
export const ServiceListResponseSchema = z.object({ services: z.array(ServiceSummarySchema) });
export type ServiceListResponse = z.infer<typeof ServiceListResponseSchema>;

/** One model of a version in `GET /api/services/{id}` (from the package's `service.json`). */
export const ServiceDetailModelSchema = z.object({
  model_id: z.string(),
  model_type: opt(z.string()),
  version: opt(z.string()),
});

/** One version in `GET /api/services/{id}` (§10.3). */
export const ServiceDetailVersionSchema = z.object({
  version: z.string(),
  size_bytes: Int,
  sha256: z.string(),
  models: z.array(ServiceDetailModelSchema),
  created_at: opt(z.string()),
  stable: z.boolean(),
  /** `/storage/services/{id}/{version}.zip`. */
  download_url: opt(z.string()),
});
export type ServiceDetailVersion = z.infer<typeof ServiceDetailVersionSchema>;

/** `GET /api/services/{id}` (§10.3). */
export const ServiceDetailSchema = z.object({
  service_id: z.string(),
  service_name: z.string(),
  service_type: opt(z.string()),
  type: opt(z.string()),
  port: opt(Int),
  description: opt(z.string()),
  latest_version: z.string(),
  versions: z.array(ServiceDetailVersionSchema),
});
export type ServiceDetail = z.infer<typeof ServiceDetailSchema>;

/** `GET /api/services/{id}/{version}/checksum` (§10.5): sha256 and size of the zip. */
export const ServiceChecksumSchema = z.object({
  service_id: z.string(),
  version: z.string(),
  sha256: Sha256HexSchema,
  size_bytes: Int,
});
export type ServiceChecksum = z.infer<typeof ServiceChecksumSchema>;

/**
 * `GET /api/services/{id}/{version}/signature` [ext] (§10.6): a detached Ed25519 signature (b64,
 * 64 bytes) over the ASCII bytes of the lower-case hex `sha256`.
 */
export const ServiceSignatureSchema = z.object({
  service_id: z.string(),
  version: z.string(),
  sha256: Sha256HexSchema,
  alg: z.literal('ed25519'),
  key_id: z.string(),
  signature: z.string(),
});
export type ServiceSignature = z.infer<typeof ServiceSignatureSchema>;

/** `checksum.sha256`, in a package or a legacy model version: `{<relative path>: <sha256 hex>}` (§10.7, §10.8). */
export const ChecksumFileSchema = z.record(z.string(), Sha256HexSchema);
export type ChecksumFile = z.infer<typeof ChecksumFileSchema>;

/** One version of a legacy model (§10.7). `checksum_sha256` is the checksum file as a JSON string, `"{}"` when none. */
export const ModelVersionSchema = z.object({
  version: z.string(),
  size_bytes: Int,
  files: z.array(z.object({ path: z.string(), size_bytes: Int })),
  checksum_sha256: z.string(),
  updated_at: z.string(),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

/** Legacy `ModelInfo` (§10.7) [compat]; `default_version` is the SemVer maximum. */
export const ModelInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  task: z.string(),
  languages: z.array(z.string()),
  default_version: z.string(),
  versions: z.array(ModelVersionSchema),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

/** `GET /api/models` → `[ModelInfo]`. */
export const ModelListResponseSchema = z.array(ModelInfoSchema);
export type ModelListResponse = z.infer<typeof ModelListResponseSchema>;
