/**
 * Small JSON documents in the data directory (StateFilePort). A write goes to a unique temporary
 * file in the same directory, is flushed, then renamed over the document: a reader or a node killed
 * halfway sees the old document or the new one. Writes to one path are serialized.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { StateFilePort } from '../kernel/ports/state-file.port.js';

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

async function writeAtomically(path: string, value: unknown, durable: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    if (durable) await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function createStateFileAdapter(): StateFilePort {
  // One chain per path; entries are removed once their last write settles, so the map stays bounded
  // by the number of documents being written at the moment.
  const chains = new Map<string, Promise<void>>();
  return {
    async read(path, signal) {
      if (signal.aborted) throw new AbortedError('read aborted');
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return undefined;
        throw new KernelError('STATE_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new KernelError('STATE_FILE_UNREADABLE', `${path} is not JSON`, { cause: err, details: { path } });
      }
    },
    write(path, value, options, signal) {
      if (signal.aborted) return Promise.reject(new AbortedError('write aborted'));
      const previous = chains.get(path) ?? Promise.resolve();
      const next = previous.then(() => writeAtomically(path, value, options.mode === 'durable'));
      const settled = next.catch(() => undefined);
      chains.set(path, settled);
      void settled.then(() => {
        if (chains.get(path) === settled) chains.delete(path);
      });
      return next.catch((err: unknown) => {
        throw new KernelError('STATE_FILE_UNWRITABLE', `cannot write ${path}: ${(err as Error).message}`, { cause: err, details: { path } });
      });
    },
  };
}
