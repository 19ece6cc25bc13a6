/** Free disk space through statfs (PROTOCOL.md §10.9 step 8). */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KernelError } from '../kernel/errors.js';
import type { DiskSpacePort } from '../kernel/ports/disk-space.port.js';

export function createDiskSpace(): DiskSpacePort {
  return {
    async freeBytes(path) {
      // The directory may not exist yet (first install): ask the nearest existing parent.
      for (let dir = path; ; dir = dirname(dir)) {
        try {
          const stats = await statfs(dir);
          return stats.bavail * stats.bsize;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) {
            throw new KernelError('DISK_SPACE_UNKNOWN', `cannot read the free space of ${path}`, { cause: err });
          }
        }
      }
    },
  };
}
