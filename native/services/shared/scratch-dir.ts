/**
 * A private temporary directory for the files engines read (apertium must be given a file, not a
 * pipe from Node: ENGINES.md). Each request gets a fresh name, removed after the call; the whole
 * directory goes away when the service closes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class ScratchDir {
  readonly path: string;
  #next = 0;

  constructor(prefix: string) {
    this.path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** Writes `content` to a new file, runs `use` with its path, then removes the file. */
  async withFile<T>(content: string | Uint8Array, extension: string, use: (file: string) => Promise<T>): Promise<T> {
    this.#next += 1;
    const file = join(this.path, `${process.pid}-${this.#next}${extension}`);
    await writeFile(file, content);
    try {
      return await use(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Removes the directory; synchronous so it also runs from an exit handler. */
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
