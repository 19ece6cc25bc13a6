/**
 * Files the hub keeps next to its packages (PROTOCOL.md §10.8 storage, not on the wire): the
 * per-version sidecar `<storage>/services/<id>/<version>.json`, the detached signature file
 * `pkg pack --sign` writes next to a zip, and the optional `model.json` of a legacy model
 * (§10.7). They are parsed where they are read, like any other persisted document (STYLE.md §6).
 */
import { z } from 'zod';
import { ServiceDetailModelSchema, Sha256HexSchema } from './hub-api.schema.js';
import { ServiceIdSchema } from './ids.js';
import { Int, opt } from './validation.js';

/**
 * Legacy model ids and versions in `/api/models/{model_id}` and `/storage/models/…` (§10.7): looser
 * than service ids, since existing model stores use upper case and non-SemVer version names.
 */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MODEL_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** A detached Ed25519 signature over the ASCII lower-case hex sha256 of a zip (§10.6). */
export const PackageSignatureRecordSchema = z.object({
  alg: z.literal('ed25519'),
  key_id: z.string().min(1),
  /** base64 of the 64-byte signature. */
  signature: z.string().min(1),
});
export type PackageSignatureRecord = z.infer<typeof PackageSignatureRecordSchema>;

/** What the hub lists of a package's `service.json` (§10.2, §10.3). */
export const PackageServiceSummarySchema = z.object({
  service_id: ServiceIdSchema,
  service_name: z.string(),
  type: opt(z.string()),
  service_type: opt(z.string()),
  description: opt(z.string()),
  port: opt(Int),
  models: z.array(ServiceDetailModelSchema),
});
export type PackageServiceSummary = z.infer<typeof PackageServiceSummarySchema>;

/**
 * `<version>.json` next to `<version>.zip`. `size_bytes` and `mtime_ms` identify the zip the
 * cached `sha256` was computed from: a zip whose size or mtime differs is hashed again.
 */
export const PackageSidecarSchema = z.object({
  sha256: Sha256HexSchema,
  size_bytes: Int,
  mtime_ms: z.number(),
  /** RFC 3339. */
  created_at: z.string(),
  stable: z.boolean(),
  service: PackageServiceSummarySchema,
  signature: opt(PackageSignatureRecordSchema),
});
export type PackageSidecar = z.infer<typeof PackageSidecarSchema>;

/** `<zip>.sig`, written by `linguamesh pkg pack --sign` and read by `pkg publish`. */
export const PackageSignatureFileSchema = PackageSignatureRecordSchema.extend({ sha256: Sha256HexSchema });
export type PackageSignatureFile = z.infer<typeof PackageSignatureFileSchema>;

/** Optional `<storage>/models/<model_id>/model.json` of a legacy model (§10.7). */
export const ModelMetaSchema = z.object({
  name: opt(z.string()),
  task: opt(z.string()),
  languages: opt(z.array(z.string())),
});
export type ModelMeta = z.infer<typeof ModelMetaSchema>;
