/**
 * The hub's catalogue, built from a storage scan: services and their versions ordered by SemVer
 * precedence (PROTOCOL.md §10.1 [fix]: never as strings), `latest_version`, and the response
 * bodies of §10.2–§10.7. Pure: no I/O, the same scan always gives the same bodies.
 */
import type { ModelInfo, ServiceChecksum, ServiceDetail, ServiceListResponse, ServiceSignature, ServiceSummary } from '../../protocol/hub-api.schema.js';
import type { HubStorageScan, ModelRecord, ModelVersionRecord, PackageRecord } from '../../kernel/ports/hub-storage.port.js';
import { compareVersionsDesc, latestOf } from '../../protocol/version-order.js';

export interface ServiceEntry {
  serviceId: string;
  /** Highest first. */
  versions: PackageRecord[];
  latest: PackageRecord;
}

export interface ModelEntry extends Omit<ModelRecord, 'versions'> {
  /** Highest first. */
  versions: ModelVersionRecord[];
}

export interface Catalogue {
  /** Completed scans when it was built (0: none yet). */
  generation: number;
  services: ReadonlyMap<string, ServiceEntry>;
  models: ReadonlyMap<string, ModelEntry>;
  /** Directory stamps of the scan it was built from (`HubStorageScan.stamps`). */
  stamps: Readonly<Record<string, string>>;
}

export const EMPTY_CATALOGUE: Catalogue = { generation: 0, services: new Map(), models: new Map(), stamps: {} };

export function buildCatalogue(scan: HubStorageScan, generation: number): Catalogue {
  const byService = new Map<string, PackageRecord[]>();
  for (const record of scan.packages) {
    const list = byService.get(record.serviceId) ?? [];
    list.push(record);
    byService.set(record.serviceId, list);
  }
  const services = new Map<string, ServiceEntry>();
  for (const [serviceId, records] of [...byService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const versions = [...records].sort((a, b) => compareVersionsDesc(a.version, b.version));
    const latest = latestOf(versions);
    if (latest) services.set(serviceId, { serviceId, versions, latest });
  }
  const models = new Map<string, ModelEntry>();
  for (const model of [...scan.models].sort((a, b) => (a.modelId < b.modelId ? -1 : 1))) {
    if (model.versions.length === 0) continue;
    models.set(model.modelId, { ...model, versions: [...model.versions].sort((a, b) => compareVersionsDesc(a.version, b.version)) });
  }
  return { generation, services, models, stamps: scan.stamps };
}

/** A version of a service; `latest` resolves to `latest_version`. */
export function findPackage(catalogue: Catalogue, serviceId: string, version: string): PackageRecord | undefined {
  const entry = catalogue.services.get(serviceId);
  if (!entry) return undefined;
  if (version === 'latest') return entry.latest;
  return entry.versions.find((v) => v.version === version);
}

export function downloadPathOf(serviceId: string, version: string): string {
  return `/storage/services/${serviceId}/${version}.zip`;
}

function serviceHeader(entry: ServiceEntry) {
  const s = entry.latest.service;
  return {
    service_id: entry.serviceId,
    service_name: s.service_name,
    ...(s.service_type !== undefined ? { service_type: s.service_type } : {}),
    ...(s.type !== undefined ? { type: s.type } : {}),
    ...(s.description !== undefined ? { description: s.description } : {}),
  };
}

/** `GET /api/services` (§10.2). */
export function serviceListBody(catalogue: Catalogue): ServiceListResponse {
  const services: ServiceSummary[] = [...catalogue.services.values()].map((entry) => ({
    ...serviceHeader(entry),
    latest_version: entry.latest.version,
    versions: entry.versions.map((v) => ({ version: v.version, size_bytes: v.sizeBytes, created_at: v.createdAt, stable: v.stable, sha256: v.sha256 })),
  }));
  return { services };
}

/** `GET /api/services/{id}` (§10.3). */
export function serviceDetailBody(entry: ServiceEntry): ServiceDetail {
  const port = entry.latest.service.port;
  return {
    ...serviceHeader(entry),
    ...(port !== undefined ? { port } : {}),
    latest_version: entry.latest.version,
    versions: entry.versions.map((v) => ({
      version: v.version,
      size_bytes: v.sizeBytes,
      sha256: v.sha256,
      models: v.service.models,
      created_at: v.createdAt,
      stable: v.stable,
      download_url: downloadPathOf(v.serviceId, v.version),
    })),
  };
}

/** `GET /api/services/{id}/{version}/checksum` (§10.5). */
export function checksumBody(record: PackageRecord): ServiceChecksum {
  return { service_id: record.serviceId, version: record.version, sha256: record.sha256, size_bytes: record.sizeBytes };
}

/** `GET /api/services/{id}/{version}/signature` (§10.6); undefined when the hub holds none. */
export function signatureBody(record: PackageRecord): ServiceSignature | undefined {
  if (!record.signature) return undefined;
  return { service_id: record.serviceId, version: record.version, sha256: record.sha256, ...record.signature };
}

/** Legacy `ModelInfo` (§10.7): every version listed, `default_version` the SemVer maximum. */
export function modelInfoBody(model: ModelEntry): ModelInfo {
  return {
    id: model.modelId,
    name: model.name,
    task: model.task,
    languages: model.languages,
    default_version: model.versions[0]?.version ?? '',
    versions: model.versions.map((v) => ({
      version: v.version,
      size_bytes: v.files.reduce((n, f) => n + f.sizeBytes, 0),
      files: v.files.map((f) => ({ path: f.path, size_bytes: f.sizeBytes })),
      checksum_sha256: v.checksumJson ?? '{}',
      updated_at: v.updatedAt,
    })),
  };
}
