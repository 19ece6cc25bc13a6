/**
 * The hub's package storage as the catalogue reads it (PROTOCOL.md §10): one record per
 * `<storage>/services/<id>/<version>.zip` (with its cached sha256 and `service.json` summary) and
 * per legacy model version. A scan never fails because of one bad package: it is skipped and logged.
 */
import type { PackageServiceSummary, PackageSignatureRecord } from '../../protocol/hub-storage.schema.js';

export interface PackageRecord {
  serviceId: string;
  version: string;
  /** Absolute path of the zip. */
  file: string;
  sizeBytes: number;
  sha256: string;
  /** RFC 3339. */
  createdAt: string;
  stable: boolean;
  service: PackageServiceSummary;
  signature?: PackageSignatureRecord;
}

export interface ModelFileRecord {
  /** Relative to the version directory, `/`-separated. */
  path: string;
  sizeBytes: number;
}

export interface ModelVersionRecord {
  version: string;
  /** Absolute path of the version directory. */
  dir: string;
  files: ModelFileRecord[];
  /** The version's `checksum.sha256` JSON text, when it has one. */
  checksumJson?: string;
  /** RFC 3339: newest file modification. */
  updatedAt: string;
}

export interface ModelRecord {
  modelId: string;
  name: string;
  task: string;
  languages: string[];
  versions: ModelVersionRecord[];
}

export interface HubStorageScan {
  packages: PackageRecord[];
  models: ModelRecord[];
  /**
   * Directory stamps taken (before listing) during the scan, by key: `services`, `models`,
   * `service:<id>`, `model:<id>`. A directory whose stamp differs now has gained, lost or renamed
   * an entry since the scan.
   */
  stamps: Record<string, string>;
}

/** The stamp of a directory that does not exist. */
export const ABSENT_STAMP = 'absent';

export interface HubStoragePort {
  /** Absolute storage root; every served file must resolve inside it. */
  readonly root: string;
  scan(signal: AbortSignal): Promise<HubStorageScan>;
  /** The current stamp of a directory key (see `HubStorageScan.stamps`); one `stat`. */
  stamp(key: string, signal: AbortSignal): Promise<string>;
}

/** A storage file the hub streams (PROTOCOL.md §10.4, §10.7). */
export interface StorageFile {
  kind: 'file';
  /** Absolute path; refused (403) when it resolves outside the storage root. */
  path: string;
  /** Strong validator, quoted (`"<sha256>"`); absent for files the hub holds no hash of. */
  etag?: string;
  contentType: string;
  /** `Content-Disposition: attachment; filename="…"`. */
  filename?: string;
  /** `detail` of the 404 when the file is gone from disk. */
  missingDetail: string;
  /** Label of the byte counters. */
  counter: 'package' | 'model';
}

/** What the hub answers to a `/storage/…` request: a file, a redirect or a JSON error. */
export type StorageAnswer = StorageFile | { kind: 'redirect'; location: string } | { kind: 'json'; status: number; json: unknown };
