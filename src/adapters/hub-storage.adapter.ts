/**
 * The hub's package storage on disk (PROTOCOL.md §10):
 *
 *   <storage>/services/<id>/<version>.zip    a package
 *   <storage>/services/<id>/<version>.json   its sidecar: sha256, size, mtime, created_at, stable,
 *                                            service.json summary, signature (PackageSidecarSchema)
 *   <storage>/models/<model_id>/model.json   legacy model metadata (optional)
 *   <storage>/models/<model_id>/<version>/…  legacy model files, optional checksum.sha256
 *
 * A zip without a valid sidecar, or whose size or mtime no longer match it, is adopted (once it is
 * a couple of seconds old, see `adoptAfterMs`): hashed,
 * its service.json read and checked (id and version must equal its path, §10.8), and a sidecar
 * written (best effort; a read-only storage keeps it in memory). Between scans the sidecars are
 * remembered by file identity, so a rescan of an unchanged storage only stats files. Dot-files
 * (publishers' temporary files) are ignored. Directory stamps (mtime + inode, taken before each
 * listing) let the hub check one directory instead of rescanning; they see entries added, removed
 * or renamed (how `pkg publish` writes), not files rewritten in place (those wait for the periodic
 * rescan).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '../kernel/logger.js';
import { ABSENT_STAMP } from '../kernel/ports/hub-storage.port.js';
import type { HubStoragePort, HubStorageScan, ModelFileRecord, ModelRecord, ModelVersionRecord, PackageRecord } from '../kernel/ports/hub-storage.port.js';
import { isSemVer } from '../protocol/hub-api.schema.js';
import { MODEL_ID_PATTERN, MODEL_VERSION_PATTERN, ModelMetaSchema, PackageSidecarSchema } from '../protocol/hub-storage.schema.js';
import type { PackageServiceSummary, PackageSidecar } from '../protocol/hub-storage.schema.js';
import { SERVICE_ID_PATTERN } from '../protocol/ids.js';
import { parseServiceJson } from '../protocol/service-json.schema.js';
import { isPrerelease } from '../protocol/version-order.js';
import { writeFileAtomically } from './atomic-file.adapter.js';
import { sha256File } from './file-hash.adapter.js';
import { readZipEntry } from './package-archive.adapter.js';

export interface HubStorageOptions {
  /** Storage root. */
  root: string;
  logger: Logger;
  /** Files listed per legacy model version at most (a bound on what one scan reads). Default 10 000. */
  maxModelFiles?: number;
  /**
   * A zip without a matching sidecar is adopted only once its mtime is this old, in ms (default
   * 2 000): `pkg publish` renames the zip and then its sidecar, and adopting in between would race
   * with the publisher's sidecar. Until then the zip is simply not listed.
   */
  adoptAfterMs?: number;
}

const MAX_SERVICE_JSON_BYTES = 1024 * 1024;
/** A directory modified this recently may change again within the same mtime tick. */
const RACY_WINDOW_MS = 2_000;
const UNSETTLED_STAMP = 'unsettled';

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The service.json summary a hub lists (§10.2, §10.3); throws a reason when the package may not be listed. */
export async function readPackageService(zipPath: string, id: string, version: string): Promise<PackageServiceSummary> {
  const raw = await readZipEntry(zipPath, 'service.json', MAX_SERVICE_JSON_BYTES);
  if (!raw) throw new Error('no service.json at the archive root');
  const parsed = parseServiceJson(JSON.parse(raw.toString('utf8')));
  if (!parsed.ok) throw new Error(`invalid service.json: ${parsed.error.reason}`);
  const m = parsed.value;
  if (m.id !== id) throw new Error(`service.json id "${m.id}" is not "${id}"`);
  if (m.version !== version) throw new Error(`service.json version "${m.version ?? ''}" is not "${version}"`);
  return {
    service_id: m.id,
    service_name: m.name,
    type: m.type,
    ...(m.serviceType !== undefined ? { service_type: m.serviceType } : {}),
    ...(m.description !== undefined ? { description: m.description } : {}),
    ...(m.port !== undefined ? { port: m.port } : {}),
    models: m.models.map((x) => ({ model_id: x.modelId, ...(x.modelType !== undefined ? { model_type: x.modelType } : {}), ...(x.version !== undefined ? { version: x.version } : {}) })),
  };
}

function recordOf(id: string, version: string, file: string, sidecar: PackageSidecar): PackageRecord {
  return {
    serviceId: id,
    version,
    file,
    sizeBytes: sidecar.size_bytes,
    sha256: sidecar.sha256,
    createdAt: sidecar.created_at,
    stable: sidecar.stable,
    service: sidecar.service,
    ...(sidecar.signature ? { signature: sidecar.signature } : {}),
  };
}

export function createHubStorage(options: HubStorageOptions): HubStoragePort {
  const root = resolve(options.root);
  const log = options.logger.child({ actor: 'hub-storage' });
  const maxModelFiles = options.maxModelFiles ?? 10_000;
  const adoptAfterMs = options.adoptAfterMs ?? 2_000;
  /** Sidecars by zip path, with the identities of zip and sidecar they were read for. */
  const known = new Map<string, { zipKey: string; sidecarKey: string; sidecar: PackageSidecar }>();

  async function sidecarFor(id: string, version: string, zip: string, zipStats: Stats, signal: AbortSignal): Promise<PackageSidecar | undefined> {
    const sidecarPath = join(root, 'services', id, `${version}.json`);
    const sidecarStats = await statOrUndefined(sidecarPath);
    const zipKey = `${zipStats.size}:${zipStats.mtimeMs}`;
    const sidecarKey = sidecarStats ? `${sidecarStats.size}:${sidecarStats.mtimeMs}` : '';
    const cached = known.get(zip);
    if (cached && cached.zipKey === zipKey && cached.sidecarKey === sidecarKey) return cached.sidecar;

    let previous: PackageSidecar | undefined;
    if (sidecarStats) {
      const parsed = PackageSidecarSchema.safeParse(JSON.parse(await readFile(sidecarPath, 'utf8').catch(() => 'null')));
      if (parsed.success) previous = parsed.data;
      if (previous && previous.size_bytes === zipStats.size && previous.mtime_ms === zipStats.mtimeMs && previous.service.service_id === id) {
        known.set(zip, { zipKey, sidecarKey, sidecar: previous });
        return previous;
      }
    }
    // Adoption: a zip copied in by hand, or changed since its sidecar was written.
    if (Date.now() - zipStats.mtimeMs < adoptAfterMs) {
      log.debug({ zip }, 'package too fresh to adopt; its publisher may still be writing the sidecar');
      return undefined;
    }
    let service: PackageServiceSummary;
    try {
      service = await readPackageService(zip, id, version);
    } catch (err) {
      log.warn({ zip, reason: err instanceof Error ? err.message : String(err) }, 'package not listed');
      known.delete(zip);
      return undefined;
    }
    const { sha256, sizeBytes } = await sha256File(zip, signal);
    const sidecar: PackageSidecar = {
      sha256,
      size_bytes: sizeBytes,
      mtime_ms: zipStats.mtimeMs,
      created_at: previous?.created_at ?? zipStats.mtime.toISOString(),
      stable: previous?.stable ?? !isPrerelease(version),
      service,
      // A signature stays only while it covers this very file.
      ...(previous?.signature && previous.sha256 === sha256 ? { signature: previous.signature } : {}),
    };
    let written = sidecarKey;
    try {
      await writeFileAtomically(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
      const after = await statOrUndefined(sidecarPath);
      written = after ? `${after.size}:${after.mtimeMs}` : '';
    } catch (err) {
      log.warn({ sidecarPath, err }, 'sidecar not written; kept in memory');
    }
    known.set(zip, { zipKey, sidecarKey: written, sidecar });
    return sidecar;
  }

  /** Directory of a stamp key, or undefined for a key that names none. */
  function dirOfKey(key: string): string | undefined {
    if (key === 'services' || key === 'models') return join(root, key);
    const [kind, id = ''] = key.split(/:(.*)/s);
    if (kind === 'service' && SERVICE_ID_PATTERN.test(id)) return join(root, 'services', id);
    if (kind === 'model' && MODEL_ID_PATTERN.test(id)) return join(root, 'models', id);
    return undefined;
  }

  async function stampOf(key: string): Promise<string> {
    const dir = dirOfKey(key);
    const stats = dir === undefined ? undefined : await statOrUndefined(dir);
    return stats ? `${stats.mtimeMs}:${stats.ino}` : ABSENT_STAMP;
  }

  /**
   * The stamp a scan records. File systems keep mtimes at a coarse tick (a jiffy, or a whole second
   * on some), so a change in the same tick as the scan's stat would leave the stamp equal: like
   * git's "racy clean" entries, a directory changed within `RACY_WINDOW_MS` of the scan is recorded
   * as unsettled, which never equals a real stamp, so the next request rescans once more.
   */
  async function scanStampOf(key: string): Promise<string> {
    const stamp = await stampOf(key);
    const mtimeMs = Number(stamp.split(':')[0]);
    return Number.isFinite(mtimeMs) && Date.now() - mtimeMs < RACY_WINDOW_MS ? UNSETTLED_STAMP : stamp;
  }

  async function scanPackages(signal: AbortSignal, stamps: Record<string, string>): Promise<PackageRecord[]> {
    const out: PackageRecord[] = [];
    const seen = new Set<string>();
    // Each directory is stamped before it is listed: a change racing with the listing leaves a
    // stamp that differs from the next one, so the next request rescans.
    stamps.services = await scanStampOf('services');
    for (const id of await listDir(join(root, 'services'))) {
      if (!SERVICE_ID_PATTERN.test(id)) continue;
      stamps[`service:${id}`] = await scanStampOf(`service:${id}`);
      for (const name of await listDir(join(root, 'services', id))) {
        signal.throwIfAborted();
        if (!name.endsWith('.zip')) continue;
        const version = name.slice(0, -'.zip'.length);
        if (!isSemVer(version)) continue;
        const zip = join(root, 'services', id, name);
        const zipStats = await statOrUndefined(zip);
        if (!zipStats?.isFile()) continue;
        seen.add(zip);
        const sidecar = await sidecarFor(id, version, zip, zipStats, signal);
        if (sidecar) out.push(recordOf(id, version, zip, sidecar));
      }
    }
    for (const path of known.keys()) if (!seen.has(path)) known.delete(path);
    return out;
  }

  async function walkFiles(dir: string, prefix: string, out: ModelFileRecord[], newest: { ms: number }): Promise<void> {
    for (const name of await listDir(dir)) {
      if (out.length >= maxModelFiles) return;
      const path = join(dir, name);
      const stats = await statOrUndefined(path);
      if (!stats) continue;
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      if (stats.isDirectory()) await walkFiles(path, rel, out, newest);
      else if (stats.isFile()) {
        newest.ms = Math.max(newest.ms, stats.mtimeMs);
        if (rel !== 'checksum.sha256') out.push({ path: rel, sizeBytes: stats.size });
      }
    }
  }

  async function scanModels(signal: AbortSignal, stamps: Record<string, string>): Promise<ModelRecord[]> {
    const out: ModelRecord[] = [];
    stamps.models = await scanStampOf('models');
    for (const modelId of await listDir(join(root, 'models'))) {
      signal.throwIfAborted();
      const dir = join(root, 'models', modelId);
      if (!MODEL_ID_PATTERN.test(modelId) || !(await statOrUndefined(dir))?.isDirectory()) continue;
      stamps[`model:${modelId}`] = await scanStampOf(`model:${modelId}`);
      const metaParsed = ModelMetaSchema.safeParse(JSON.parse(await readFile(join(dir, 'model.json'), 'utf8').catch(() => '{}')));
      const meta = metaParsed.success ? metaParsed.data : {};
      const versions: ModelVersionRecord[] = [];
      for (const version of await listDir(dir)) {
        const versionDir = join(dir, version);
        if (!MODEL_VERSION_PATTERN.test(version) || !(await statOrUndefined(versionDir))?.isDirectory()) continue;
        const files: ModelFileRecord[] = [];
        const newest = { ms: 0 };
        await walkFiles(versionDir, '', files, newest);
        const checksumJson = await readFile(join(versionDir, 'checksum.sha256'), 'utf8').catch(() => undefined);
        versions.push({ version, dir: versionDir, files, ...(checksumJson !== undefined ? { checksumJson } : {}), updatedAt: new Date(newest.ms || Date.now()).toISOString() });
      }
      out.push({ modelId, name: meta.name ?? modelId, task: meta.task ?? '', languages: meta.languages ?? [], versions });
    }
    return out;
  }

  return {
    root,
    async scan(signal): Promise<HubStorageScan> {
      const stamps: Record<string, string> = {};
      const packages = await scanPackages(signal, stamps);
      const models = await scanModels(signal, stamps);
      return { packages, models, stamps };
    },
    stamp: (key) => stampOf(key),
  };
}
