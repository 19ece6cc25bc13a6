/**
 * Packages for tests: tiny real services (a Node script answering `/health`), packed with the
 * real packer; raw zips built with yazl and patched byte-wise into hostile shapes; and storage
 * placed directly (zip + sidecar) to stand for a hub whose files or sidecars are corrupt.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import { packServiceDirectory } from '../../../src/adapters/package-pack.adapter.js';
import type { PackageSidecar, PackageSignatureRecord } from '../../../src/protocol/hub-storage.schema.js';

export type TinyMode = 'ok' | 'exit';

export function tinyServiceJson(id: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: `Tiny ${id}`, version, type: 'nmt', service_type: 'node', device: 'cpu', exec: { command: 'node', args: ['server.mjs'] }, startup_timeout_ms: 10_000, ...extra };
}

/** A service that answers `GET /health` with `{"status":"ok","version"}` on `PORT`, or exits at once (`exit`). */
export function tinyServer(version: string, mode: TinyMode): string {
  if (mode === 'exit') return `process.exit(3);\n`;
  return `import http from 'node:http';
const server = http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: 'ok', version: ${JSON.stringify(version)} }));
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
}

export interface TinyServiceOptions {
  id: string;
  version: string;
  mode?: TinyMode;
  /** Extra files, by relative path. */
  files?: Record<string, string | Buffer>;
  serviceJson?: Record<string, unknown>;
}

export async function writeTinyService(dir: string, options: TinyServiceOptions): Promise<void> {
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(join(dir, 'service.json'), JSON.stringify(options.serviceJson ?? tinyServiceJson(options.id, options.version)));
  await writeFile(join(dir, 'server.mjs'), tinyServer(options.version, options.mode ?? 'ok'));
  await writeFile(join(dir, 'models', 'weights.bin'), createHash('sha256').update(`${options.id}@${options.version}`).digest());
  for (const [rel, data] of Object.entries(options.files ?? {})) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), data);
  }
}

/** Writes a tiny service under `workDir` and packs it with the real packer. */
export async function buildTinyPackage(workDir: string, options: TinyServiceOptions): Promise<{ zip: string; sha256: string; sizeBytes: number }> {
  const dir = join(workDir, `src-${options.id}-${options.version}`);
  await writeTinyService(dir, options);
  const result = await packServiceDirectory({ sourceDir: dir, outFile: join(workDir, `${options.id}-${options.version}.zip`) });
  return { zip: result.file, sha256: result.sha256, sizeBytes: result.sizeBytes };
}

export interface RawEntry {
  name: string;
  data?: string | Buffer;
  /** Unix mode with type bits (0o100644 file, 0o120777 link). */
  mode?: number;
  compress?: boolean;
  directory?: boolean;
}

/** A zip built with yazl from raw entries, in memory. */
export async function zipBuffer(entries: RawEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.directory) zip.addEmptyDirectory(e.name, { mtime: new Date(Date.UTC(2020, 0, 1)) });
    else zip.addBuffer(Buffer.from(e.data ?? ''), e.name, { mtime: new Date(Date.UTC(2020, 0, 1)), compress: e.compress ?? true, ...(e.mode !== undefined ? { mode: e.mode } : {}) });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Replaces an entry name in the local header and the central directory (same length: offsets stay valid). */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('renameEntry keeps the length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  let count = 0;
  while (at >= 0) {
    Buffer.from(to).copy(out, at);
    count++;
    at = out.indexOf(needle, at + needle.length);
  }
  if (count < 2) throw new Error(`entry ${from} not found twice`);
  return out;
}

/** Declares another uncompressed size for an entry (local header offset 22, central directory offset 24). */
export function setDeclaredSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const needle = Buffer.from(name);
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) {
    if (out.readUInt32LE(at - 30) === 0x04034b50) out.writeUInt32LE(size, at - 30 + 22);
    else if (out.readUInt32LE(at - 46) === 0x02014b50) out.writeUInt32LE(size, at - 46 + 24);
  }
  return out;
}

export interface PlaceOptions {
  /** The sha256 the sidecar claims (default: the real one). */
  sha256?: string;
  stable?: boolean;
  signature?: PackageSignatureRecord;
}

/**
 * Puts a zip and a sidecar matching its size and mtime straight into hub storage: the hub trusts
 * the sidecar, so a wrong `sha256` in it stands for a corrupt or lying hub.
 */
export async function placePackage(storage: string, id: string, version: string, zip: Buffer, options: PlaceOptions = {}): Promise<{ sha256: string; sizeBytes: number }> {
  const dir = join(storage, 'services', id);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${version}.zip`);
  // Renamed into place, as a publisher does (the hub notices renames in a directory at once).
  await writeFile(join(dir, `.${version}.zip.tmp`), zip);
  await rename(join(dir, `.${version}.zip.tmp`), file);
  const stats = await stat(file);
  const sha256 = createHash('sha256').update(zip).digest('hex');
  const sidecar: PackageSidecar = {
    sha256: options.sha256 ?? sha256,
    size_bytes: stats.size,
    mtime_ms: stats.mtimeMs,
    created_at: '2026-01-01T00:00:00.000Z',
    stable: options.stable ?? true,
    service: { service_id: id, service_name: id, models: [] },
    ...(options.signature ? { signature: options.signature } : {}),
  };
  await writeFile(join(dir, `.${version}.json.tmp`), JSON.stringify(sidecar));
  await rename(join(dir, `.${version}.json.tmp`), join(dir, `${version}.json`));
  return { sha256, sizeBytes: stats.size };
}

/** The entries of a valid tiny package, for hostile variations. */
export function tinyEntries(id: string, version: string, extra: RawEntry[] = []): RawEntry[] {
  return [
    { name: 'service.json', data: JSON.stringify(tinyServiceJson(id, version)) },
    { name: 'server.mjs', data: tinyServer(version, 'ok') },
    ...extra,
  ];
}
