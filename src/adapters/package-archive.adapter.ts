/**
 * Package zips, read safely with yauzl (PROTOCOL.md §10.8). Every entry is checked before any byte
 * is written: no absolute paths, no `..`/`.`/empty segments, no backslashes, no symbolic links or
 * other non-regular files, no duplicates, no encryption, no compression ratio above the bound, and
 * the declared sizes must stay under `maxUnpackedBytes`. Extraction then counts the bytes it
 * actually writes: past an entry's declared size or the total bound it aborts. Each file's bytes
 * are checked once: by sha256 when the in-package checksum lists it, else by CRC-32. yauzl's own
 * name and size checks are turned off (`decodeStrings`/`validateEntrySizes` false) so that every
 * refusal is ours and carries our code, not a library message.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { AbortedError, isKernelError, KernelError } from '../kernel/errors.js';
import type { ArchiveInspection, ArchiveLimits, ExtractedFile, PackageArchivePort } from '../kernel/ports/package-archive.port.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

function unsafe(name: string, reason: string): KernelError {
  return new KernelError('UNSAFE_ARCHIVE_ENTRY', `unsafe archive entry "${name}": ${reason}`, { details: { entry: name, reason } });
}

function invalidArchive(message: string, cause?: unknown): KernelError {
  return new KernelError('INVALID_ARCHIVE', message, { cause });
}

interface CheckedEntry {
  entry: Entry;
  /** `/`-separated, without the trailing `/` of directories. */
  name: string;
  isDirectory: boolean;
  /** File mode to create it with. */
  mode: number;
}

function entryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
}

/** The reason an entry is refused, or its checked form. Exported for the packer and the hub's publish. */
export function checkEntry(entry: Entry, limits: ArchiveLimits): CheckedEntry {
  const raw = entryName(entry);
  if (raw.length === 0) throw unsafe(raw, 'empty name');
  if (raw.includes('\\') || raw.includes('\0')) throw unsafe(raw, 'invalid characters');
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw unsafe(raw, 'absolute path');
  const isDirectory = raw.endsWith('/');
  const name = isDirectory ? raw.slice(0, -1) : raw;
  const segments = name.split('/');
  if (segments.includes('..')) throw unsafe(raw, 'parent directory segment');
  if (segments.some((s) => s === '' || s === '.')) throw unsafe(raw, 'empty or "." segment');
  const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = unixMode & S_IFMT;
  if (type === S_IFLNK) throw unsafe(raw, 'symbolic link');
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) throw unsafe(raw, 'not a regular file or directory');
  if (type === S_IFDIR && !isDirectory) throw unsafe(raw, 'directory without a trailing slash');
  if (entry.isEncrypted()) throw unsafe(raw, 'encrypted');
  if (entry.compressionMethod !== METHOD_STORED && entry.compressionMethod !== METHOD_DEFLATED) throw unsafe(raw, `compression method ${entry.compressionMethod}`);
  if (isDirectory && entry.uncompressedSize !== 0) throw unsafe(raw, 'directory with content');
  if (entry.uncompressedSize > limits.maxUnpackedBytes) throw unsafe(raw, 'larger than the unpacked size bound');
  if (entry.uncompressedSize >= limits.ratioCheckMinBytes && entry.uncompressedSize > limits.maxCompressionRatio * Math.max(1, entry.compressedSize)) {
    throw unsafe(raw, `compression ratio above ${limits.maxCompressionRatio}`);
  }
  return { entry, name, isDirectory, mode: (unixMode & 0o111) !== 0 ? 0o755 : 0o644 };
}

async function openZip(zipPath: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false });
  } catch (err) {
    throw invalidArchive(`cannot read the zip: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** Every entry, checked, with the rules that span entries (duplicates, total size). */
async function checkedEntries(zip: ZipFile, limits: ArchiveLimits, signal: AbortSignal): Promise<CheckedEntry[]> {
  const seen = new Set<string>();
  const entries: CheckedEntry[] = [];
  let declared = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (signal.aborted) throw new AbortedError('archive check aborted');
      const checked = checkEntry(entry, limits);
      if (seen.has(checked.name)) throw unsafe(checked.name, 'duplicate entry');
      seen.add(checked.name);
      declared += entry.uncompressedSize;
      if (declared > limits.maxUnpackedBytes) throw unsafe(checked.name, `entries add up to more than ${limits.maxUnpackedBytes} bytes`);
      entries.push(checked);
    }
  } catch (err) {
    if (isKernelError(err)) throw err;
    throw invalidArchive(`corrupt zip: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return entries;
}

/**
 * Writes one entry to its file, counting the bytes as they come: past the entry's declared size or
 * the total budget it fails before writing them. Hashes (sha256 or CRC-32) the bytes it writes.
 */
class EntrySink extends Writable {
  written = 0;
  crc = 0;
  readonly hash: Hash | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly checked: CheckedEntry,
    private readonly budget: { left: number },
    private readonly onBytes: (n: number) => void,
    withSha256: boolean,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.hash = withSha256 ? createHash('sha256') : undefined;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    const size = buffers.reduce((n, b) => n + b.length, 0);
    if (this.written + size > this.checked.entry.uncompressedSize) {
      callback(unsafe(this.checked.name, 'more bytes than its declared size'));
      return;
    }
    if (this.budget.left - size < 0) {
      callback(unsafe(this.checked.name, 'unpacked bytes past the bound'));
      return;
    }
    this.written += size;
    this.budget.left -= size;
    for (const b of buffers) {
      if (this.hash) this.hash.update(b);
      else this.crc = crc32(b, this.crc);
    }
    this.handle.writev(buffers).then(
      () => {
        this.onBytes(size);
        callback();
      },
      (err: Error) => callback(err),
    );
  }
}

function translate(err: unknown, name: string): unknown {
  if (isKernelError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ABORT_ERR') return new AbortedError('extraction aborted', { cause: err });
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') return unsafe(name, 'conflicts with another entry');
  if (code === 'ENOSPC' || code === 'EDQUOT') return new KernelError('INSUFFICIENT_DISK', 'the disk filled up while unpacking', { cause: err });
  return invalidArchive(`cannot unpack "${name}": ${err instanceof Error ? err.message : String(err)}`, err);
}

async function extractEntry(zip: ZipFile, checked: CheckedEntry, destDir: string, budget: { left: number }, withSha256: boolean, onBytes: (n: number) => void, signal: AbortSignal): Promise<ExtractedFile | undefined> {
  const target = resolve(destDir, ...checked.name.split('/'));
  const rel = relative(destDir, target);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) throw unsafe(checked.name, 'resolves outside the destination');
  if (checked.isDirectory) {
    await mkdir(target, { recursive: true });
    return undefined;
  }
  await mkdir(dirname(target), { recursive: true });
  // `wx`: an entry never overwrites a file (a second entry of the same name, or a crafted alias).
  const handle = await open(target, 'wx', checked.mode);
  const sink = new EntrySink(handle, checked, budget, onBytes, withSha256);
  try {
    await pipeline(await zip.openReadStreamPromise(checked.entry), sink, { signal });
  } finally {
    await handle.close();
  }
  if (sink.written !== checked.entry.uncompressedSize) throw invalidArchive(`entry "${checked.name}" is truncated`);
  if (!sink.hash && sink.crc >>> 0 !== checked.entry.crc32 >>> 0) throw invalidArchive(`entry "${checked.name}" fails its CRC-32`);
  return { path: checked.name, sizeBytes: sink.written, ...(sink.hash ? { sha256: sink.hash.digest('hex') } : {}) };
}

export function createPackageArchive(): PackageArchivePort {
  return {
    async inspect(zipPath, limits, signal): Promise<ArchiveInspection> {
      const zip = await openZip(zipPath);
      try {
        const entries = await checkedEntries(zip, limits, signal);
        return {
          entryCount: entries.length,
          declaredBytes: entries.reduce((n, e) => n + e.entry.uncompressedSize, 0),
          files: entries.filter((e) => !e.isDirectory).map((e) => e.name),
        };
      } finally {
        zip.close();
      }
    },

    async extract(zipPath, destDir, limits, options, onProgress, signal): Promise<ExtractedFile[]> {
      // Every entry of the central directory is checked before the first byte is written: nothing
      // is written for a zip with one bad entry anywhere in it. With autoClose off, the entries
      // stay readable after the iteration has ended.
      const zip = await openZip(zipPath);
      try {
        const entries = await checkedEntries(zip, limits, signal);
        const budget = { left: limits.maxUnpackedBytes };
        let written = 0;
        const files: ExtractedFile[] = [];
        for (const checked of entries) {
          if (signal.aborted) throw new AbortedError('extraction aborted');
          try {
            const file = await extractEntry(zip, checked, destDir, budget, options.sha256Of.has(checked.name), (n) => onProgress((written += n)), signal);
            if (file) files.push(file);
          } catch (err) {
            throw translate(err, checked.name);
          }
        }
        return files;
      } finally {
        zip.close();
      }
    },

    readEntry: (zipPath, name, maxBytes) => readZipEntry(zipPath, name, maxBytes),
  };
}

/** One file of a zip (e.g. `service.json`), at most `maxBytes`; undefined when absent. */
export async function readZipEntry(zipPath: string, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const zip = await openZip(zipPath);
  try {
    let found: Entry | undefined;
    try {
      for await (const entry of zip.eachEntry()) {
        if (entryName(entry) === name) found = entry;
      }
    } catch (err) {
      throw invalidArchive(`corrupt zip: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    if (!found) return undefined;
    if (found.uncompressedSize > maxBytes) throw unsafe(name, `larger than ${maxBytes} bytes`);
    const stream = await zip.openReadStreamPromise(found);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw unsafe(name, `larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    if (isKernelError(err)) throw err;
    throw invalidArchive(`cannot read "${name}" from the zip: ${err instanceof Error ? err.message : String(err)}`, err);
  } finally {
    zip.close();
  }
}
