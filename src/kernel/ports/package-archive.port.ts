/**
 * Reading package zips safely (PROTOCOL.md §10.8). Unsafe entries (absolute, `..`, symbolic links
 * or other non-regular files, duplicates, sizes past the bounds, suspicious compression ratios)
 * reject with `UNSAFE_ARCHIVE_ENTRY`; an unreadable or corrupt zip with `INVALID_ARCHIVE`.
 */

export interface ArchiveLimits {
  /** Bound of the entries' uncompressed sizes added up, in bytes (`max_unpacked_bytes`, 32 GiB). */
  maxUnpackedBytes: number;
  /** Largest uncompressed/compressed ratio of one entry (zip-bomb guard)… */
  maxCompressionRatio: number;
  /** …checked only for entries of at least this many uncompressed bytes. */
  ratioCheckMinBytes: number;
}

export interface ArchiveInspection {
  entryCount: number;
  /** Uncompressed sizes of the entries added up, as the central directory declares them. */
  declaredBytes: number;
  /** Relative paths of the file entries (directories excluded). */
  files: string[];
}

export interface ExtractedFile {
  /** Relative path with `/` separators, as in the archive. */
  path: string;
  sizeBytes: number;
  /** sha256 (hex) of the bytes written, for the paths asked for in `ExtractOptions.sha256Of`. */
  sha256?: string;
}

export interface ExtractOptions {
  /**
   * Paths whose written bytes are hashed with sha256 (those an in-package `checksum.sha256` lists).
   * Every other file is checked against its CRC-32 instead: one check per byte, not two.
   */
  sha256Of: ReadonlySet<string>;
}

export interface PackageArchivePort {
  /** Checks every entry against the rules and the limits without writing anything. */
  inspect(zipPath: string, limits: ArchiveLimits, signal: AbortSignal): Promise<ArchiveInspection>;
  /**
   * Extracts into `destDir` (which must exist and be empty), counting the bytes actually written:
   * past an entry's declared size or past `maxUnpackedBytes` it aborts with `UNSAFE_ARCHIVE_ENTRY`.
   * `onProgress` receives the bytes written so far.
   */
  extract(zipPath: string, destDir: string, limits: ArchiveLimits, options: ExtractOptions, onProgress: (bytesWritten: number) => void, signal: AbortSignal): Promise<ExtractedFile[]>;
  /** One file of the archive (e.g. `checksum.sha256`), at most `maxBytes`; undefined when absent. */
  readEntry(zipPath: string, name: string, maxBytes: number, signal: AbortSignal): Promise<Buffer | undefined>;
}
