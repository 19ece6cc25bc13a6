import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNodeIdentityFileStore, NODE_IDENTITY_FILE } from '../../../src/adapters/node-identity-file.adapter.js';

const signal = new AbortController().signal;
const dir = () => mkdtempSync(join(tmpdir(), 'lm-identity-'));

describe('node identity file store', () => {
  it('nothing persisted → undefined; save then load round-trips, creating the directory; no temporary file is left', async () => {
    const root = join(dir(), 'state', 'node');
    const store = createNodeIdentityFileStore({ dir: root });
    expect(await store.load(signal)).toBeUndefined();
    await store.save('node-3F2A9C1B', signal);
    await store.save('node-00000002', signal);
    expect(await store.load(signal)).toBe('node-00000002');
    expect(readdirSync(root)).toEqual([NODE_IDENTITY_FILE]);
    expect(JSON.parse(readFileSync(join(root, NODE_IDENTITY_FILE), 'utf8'))).toEqual({ node_id: 'node-00000002' });
  });

  it('a torn or foreign file is treated as none (the scheduler assigns a new id)', async () => {
    const root = dir();
    const store = createNodeIdentityFileStore({ dir: root });
    for (const content of ['{"node_id":"node-3F', '{"node_id":""}', '{"id":"node-1"}', '[]']) {
      writeFileSync(join(root, NODE_IDENTITY_FILE), content);
      expect(await store.load(signal)).toBeUndefined();
    }
  });

  it('a write that cannot complete fails with NODE_ID_PERSIST_FAILED and leaves no temporary file', async () => {
    const root = dir();
    // The rename target is a non-empty directory: the rename fails whatever the user's rights.
    mkdirSync(join(root, NODE_IDENTITY_FILE, 'occupied'), { recursive: true });
    const store = createNodeIdentityFileStore({ dir: root });
    await expect(store.save('node-00000002', signal)).rejects.toMatchObject({ code: 'NODE_ID_PERSIST_FAILED', retryable: true });
    expect(readdirSync(root)).toEqual([NODE_IDENTITY_FILE]);
  });
});
