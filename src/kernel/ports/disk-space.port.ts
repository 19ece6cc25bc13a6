/** Free disk space where packages are downloaded and unpacked (PROTOCOL.md §10.9 step 8). */
export interface DiskSpacePort {
  /** Bytes available to this process on the file system holding `path`. */
  freeBytes(path: string, signal: AbortSignal): Promise<number>;
}
