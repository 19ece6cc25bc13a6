/**
 * `linguamesh pkg pack`: a service directory → a package zip (PROTOCOL.md §10.8). `service.json`
 * sits at the archive root, every other regular file follows in sorted order, and a
 * `checksum.sha256` of them is added last. Entries get a fixed mtime, so the same directory always
 * packs to the same bytes (and the same sha256). Symbolic links are refused: a package may not
 * contain them. Large files that do not compress (models, checked on a sample) are stored.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deflateRawSync } from 'node:zlib';
import yazl from 'yazl';
import { KernelError } from '../kernel/errors.js';
import { isSemVer } from '../protocol/hub-api.schema.js';
import { signPackageDigest } from '../protocol/package-signature.js';
import type { PackageSignatureFile } from '../protocol/hub-storage.schema.js';
import { parseServiceJson } from '../protocol/service-json.schema.js';
import type { ServiceManifest } from '../protocol/service-json.schema.js';
import { temporarySibling, writeFileAtomically } from './atomic-file.adapter.js';
import { sha256File } from './file-hash.adapter.js';

export interface PackOptions {
  /** The service directory (with `service.json` at its root). */
  sourceDir: string;
  /** Output zip. Default `<id>-<version>.zip` in the current directory. */
  outFile?: string;
  /** `auto`: deflate, except large files whose first 64 KiB do not shrink. */
  compression?: 'auto' | 'always' | 'never';
  /** Ed25519 private key (PEM): also writes `<outFile>.sig`. */
  signingKeyPem?: string;
}

export interface PackResult {
  file: string;
  sha256: string;
  sizeBytes: number;
  serviceId: string;
  version: string;
  /** Files in the package, `checksum.sha256` included. */
  entries: number;
  signatureFile?: string;
}

const FIXED_MTIME = new Date(Date.UTC(2020, 0, 1));
const SKIPPED_DIRECTORIES = new Set(['.git']);
const SAMPLE_BYTES = 64 * 1024;

function invalidServiceJson(message: string): KernelError {
  return new KernelError('INVALID_SERVICE_JSON', message);
}

/** `service.json` as a package needs it: valid, with `id`, `name`, `exec` and a SemVer `version` (§9.7, §10.8). */
export function checkPackManifest(json: unknown): ServiceManifest {
  const parsed = parseServiceJson(json);
  if (!parsed.ok) throw new KernelError('INVALID_SERVICE_JSON', `service.json is invalid: ${parsed.error.reason}`, { cause: parsed.error });
  const doc = json as Record<string, unknown>;
  for (const key of ['id', 'name', 'exec'] as const) {
    if (doc[key] === undefined) throw invalidServiceJson(`service.json needs "${key}" in a package (Lingua nodes skip entries without it)`);
  }
  if (parsed.value.version === undefined || !isSemVer(parsed.value.version)) throw invalidServiceJson('service.json needs a SemVer "version" in a package');
  return parsed.value;
}

async function listFiles(root: string, dir: string, out: string[]): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const stats = await lstat(path);
    const rel = relative(root, path).split(sep).join('/');
    if (stats.isSymbolicLink()) throw new KernelError('UNSAFE_ARCHIVE_ENTRY', `"${rel}" is a symbolic link; packages may not contain links`, { details: { entry: rel } });
    if (stats.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(name)) await listFiles(root, path, out);
    } else if (stats.isFile()) {
      if (rel !== 'checksum.sha256') out.push(rel);
    } else {
      throw new KernelError('UNSAFE_ARCHIVE_ENTRY', `"${rel}" is not a regular file`, { details: { entry: rel } });
    }
  }
}

async function compresses(path: string, size: number): Promise<boolean> {
  if (size < 1024 * 1024) return true;
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: SAMPLE_BYTES - 1 }) as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    read += chunk.length;
  }
  return deflateRawSync(Buffer.concat(chunks)).length < read * 0.9;
}

export async function packServiceDirectory(options: PackOptions): Promise<PackResult> {
  const sourceDir = resolve(options.sourceDir);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(sourceDir, 'service.json'), 'utf8'));
  } catch (err) {
    throw new KernelError('INVALID_SERVICE_JSON', `cannot read ${join(sourceDir, 'service.json')}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const manifest = checkPackManifest(json);
  const version = manifest.version as string;
  const outFile = resolve(options.outFile ?? `${manifest.id}-${version}.zip`);
  if (outFile.startsWith(sourceDir + sep)) throw new KernelError('INVALID_ARGUMENT', 'the output zip must not be inside the service directory');

  const files: string[] = [];
  await listFiles(sourceDir, sourceDir, files);
  files.sort((a, b) => (a === 'service.json' ? -1 : b === 'service.json' ? 1 : a < b ? -1 : 1));
  const zip = new yazl.ZipFile();
  const checksums: Record<string, string> = {};
  for (const rel of files) {
    const abs = join(sourceDir, ...rel.split('/'));
    const stats = await lstat(abs);
    const { sha256 } = await sha256File(abs);
    checksums[rel] = sha256;
    const compress = options.compression === 'always' || (options.compression !== 'never' && (await compresses(abs, stats.size)));
    zip.addFile(abs, rel, { mtime: FIXED_MTIME, mode: (stats.mode & 0o111) !== 0 ? 0o100755 : 0o100644, compress });
  }
  zip.addBuffer(Buffer.from(`${JSON.stringify(checksums, Object.keys(checksums).sort(), 2)}\n`), 'checksum.sha256', { mtime: FIXED_MTIME, mode: 0o100644 });

  const tmp = temporarySibling(outFile);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const meter = new PassThrough();
  meter.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    sizeBytes += chunk.length;
  });
  zip.end();
  try {
    await pipeline(zip.outputStream, meter, createWriteStream(tmp));
    await rename(tmp, outFile);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const sha256 = hash.digest('hex');
  const result: PackResult = { file: outFile, sha256, sizeBytes, serviceId: manifest.id, version, entries: files.length + 1 };
  if (options.signingKeyPem !== undefined) {
    const signatureFile = `${outFile}.sig`;
    const signature: PackageSignatureFile = { ...signPackageDigest(sha256, options.signingKeyPem), sha256 };
    await writeFileAtomically(signatureFile, `${JSON.stringify(signature, null, 2)}\n`);
    result.signatureFile = signatureFile;
  }
  return result;
}
