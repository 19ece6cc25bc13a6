/**
 * The NodeIdentityStore as one small JSON file in the node's state directory,
 * `<dir>/node-identity.json` = `{"node_id": "…"}`. Writes are atomic: a temporary file in the same
 * directory is written, flushed to disk and renamed over the old one, so a crash leaves the old id
 * or the new one, never a torn file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { NodeIdentityStore } from '../kernel/ports/node-identity.port.js';
import { NodeIdSchema } from '../protocol/ids.js';
import { parseWith } from '../protocol/validation.js';

export const NODE_IDENTITY_FILE = 'node-identity.json';

const NodeIdentityFileSchema = z.object({ node_id: NodeIdSchema });

export interface NodeIdentityFileOptions {
  /** The node's state directory (created when missing). */
  dir: string;
  logger?: Logger;
}

export function createNodeIdentityFileStore(options: NodeIdentityFileOptions): NodeIdentityStore {
  const file = join(options.dir, NODE_IDENTITY_FILE);
  return {
    async load(signal) {
      let text: string;
      try {
        text = await readFile(file, { encoding: 'utf8', signal });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new KernelError('NODE_ID_UNREADABLE', `cannot read ${file}`, { cause: err });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = parseWith(NodeIdentityFileSchema, json, 'node identity file');
      if (!parsed.ok) {
        options.logger?.warn({ file, reason: parsed.error.reason }, 'node identity file is invalid; registering as a new node');
        return undefined;
      }
      return parsed.value.node_id;
    },

    async save(nodeId, signal) {
      const temp = join(options.dir, `.${NODE_IDENTITY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await mkdir(options.dir, { recursive: true });
        const handle = await open(temp, 'w', 0o600);
        try {
          await handle.writeFile(`${JSON.stringify({ node_id: nodeId })}\n`, { signal });
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (err) {
        await rm(temp, { force: true });
        throw new KernelError('NODE_ID_PERSIST_FAILED', `cannot write ${file}`, { cause: err, retryable: true });
      }
    },
  };
}
