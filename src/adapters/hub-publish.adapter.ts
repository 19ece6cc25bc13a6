/**
 * `linguamesh pkg publish`: places a package into hub storage so a running hub lists it. The zip is
 * checked first (entries, service.json with a SemVer version), hashed, and optionally signed. Then
 * it is copied under a hidden temporary name and renamed to `<version>.zip`, and its sidecar is
 * renamed into place last: the sidecar describes the zip by size and mtime, so the hub never pairs
 * a sidecar with a zip it was not written for, and the hub leaves a fresh zip without a sidecar
 * alone for a moment (`adoptAfterMs`) instead of racing to write one itself. The hub rescans on
 * demand when a request names a version it does not know, and periodically.
 */
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KernelError } from '../kernel/errors.js';
import { PackageSignatureFileSchema } from '../protocol/hub-storage.schema.js';
import type { PackageSidecar, PackageSignatureRecord } from '../protocol/hub-storage.schema.js';
import { signPackageDigest } from '../protocol/package-signature.js';
import { isPrerelease } from '../protocol/version-order.js';
import { temporarySibling, writeFileAtomically } from './atomic-file.adapter.js';
import { sha256File } from './file-hash.adapter.js';
import { createPackageArchive, readZipEntry } from './package-archive.adapter.js';
import { checkPackManifest } from './package-pack.adapter.js';
import { readPackageService } from './hub-storage.adapter.js';

export interface PublishOptions {
  storageDir: string;
  zipPath: string;
  /** Listed as stable (candidate for `latest_version`). Default: true unless the version is a pre-release. */
  stable?: boolean;
  /** Ed25519 private key (PEM) to sign with; otherwise a `<zip>.sig` next to the zip is used when present. */
  signingKeyPem?: string;
  /** Replace a version already in storage (versions are otherwise immutable: resumed downloads rely on it). */
  force?: boolean;
  /** Clock for `created_at`. */
  now?: () => Date;
}

export interface PublishResult {
  serviceId: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  /** Path of the zip in storage. */
  file: string;
  stable: boolean;
  signed: boolean;
}

/** The checks a hub package must pass before it is published; the same bounds as a node's (§10.8). */
const PUBLISH_LIMITS = { maxUnpackedBytes: 32 * 1024 ** 3, maxCompressionRatio: 100, ratioCheckMinBytes: 1024 * 1024 };

async function signatureFor(zipPath: string, sha256: string, signingKeyPem: string | undefined): Promise<PackageSignatureRecord | undefined> {
  if (signingKeyPem !== undefined) return signPackageDigest(sha256, signingKeyPem);
  let text: string;
  try {
    text = await readFile(`${zipPath}.sig`, 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KernelError('SIGNATURE_INVALID', `${zipPath}.sig is not JSON`, { cause: err });
  }
  const parsed = PackageSignatureFileSchema.safeParse(json);
  if (!parsed.success) throw new KernelError('SIGNATURE_INVALID', `${zipPath}.sig is not a package signature file`);
  if (parsed.data.sha256 !== sha256) throw new KernelError('SIGNATURE_INVALID', `${zipPath}.sig signs another file`);
  const { alg, key_id, signature } = parsed.data;
  return { alg, key_id, signature };
}

export async function publishPackage(options: PublishOptions): Promise<PublishResult> {
  const zipPath = resolve(options.zipPath);
  await createPackageArchive().inspect(zipPath, PUBLISH_LIMITS, new AbortController().signal);
  const raw = await readZipEntry(zipPath, 'service.json', 1024 * 1024);
  if (!raw) throw new KernelError('INVALID_SERVICE_JSON', 'the package has no service.json at its root');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new KernelError('INVALID_SERVICE_JSON', 'service.json is not valid JSON', { cause: err });
  }
  const manifest = checkPackManifest(json);
  const serviceId = manifest.id;
  const version = manifest.version as string;
  const service = await readPackageService(zipPath, serviceId, version);
  const { sha256, sizeBytes } = await sha256File(zipPath);
  const signature = await signatureFor(zipPath, sha256, options.signingKeyPem);

  const dir = join(resolve(options.storageDir), 'services', serviceId);
  const target = join(dir, `${version}.zip`);
  await mkdir(dir, { recursive: true });
  const exists = await stat(target).then(() => true, () => false);
  if (exists && options.force !== true) throw new KernelError('VERSION_EXISTS', `${serviceId}@${version} is already published (versions are immutable; --force replaces it)`);

  const tmp = temporarySibling(target);
  try {
    await copyFile(zipPath, tmp);
    const copied = await stat(tmp);
    const stable = options.stable ?? !isPrerelease(version);
    const sidecar: PackageSidecar = {
      sha256,
      size_bytes: copied.size,
      mtime_ms: copied.mtimeMs,
      created_at: (options.now?.() ?? new Date()).toISOString(),
      stable,
      service,
      ...(signature ? { signature } : {}),
    };
    await rename(tmp, target);
    await writeFileAtomically(join(dir, `${version}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
    return { serviceId, version, sha256, sizeBytes, file: target, stable, signed: signature !== undefined };
  } finally {
    await rm(tmp, { force: true });
  }
}
