/**
 * A node killed (SIGKILL) at each step of an upgrade leaves either the old or the new version
 * active, never a half state; at the next start the recovery repairs what is left and a fresh
 * install completes. Each kill point is a real child process running the real adapters.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import type { PackageDownloadResult } from '../../../src/kernel/ports/hub-client.port.js';
import { recordPid } from '../../support/pids.js';
import { FakeActivation } from '../../support/packages/fake-activation.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';
import { currentOf, leftovers, nodeHarness, versionsOf } from '../../support/packages/node-harness.js';

const ID = 'tiny';
const MODEL = randomBytes(2 * 1024 * 1024);
const MODEL_SHA = createHash('sha256').update(MODEL).digest('hex');
/** Kill point → the version `current` must name right after the kill (before any recovery). */
const KILL_POINTS: Record<string, '1.0.0' | '2.0.0'> = {
  'download:half': '1.0.0',
  download: '1.0.0',
  'extract:half': '1.0.0',
  extract: '1.0.0',
  commit: '1.0.0',
  'writeJournal#1': '1.0.0',
  'switchCurrent#1': '2.0.0',
  activate: '2.0.0',
};

let tmp: string;
let hub: HubHandle;
const children = new Set<ReturnType<typeof spawn>>();

function runChild(servicesDir: string, killAt: string): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/packages/install-child.ts', hub.url, servicesDir, ID, '2.0.0', killAt], { stdio: ['ignore', 'pipe', 'inherit'] });
  recordPid(child.pid);
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (_code, signal) => {
    children.delete(child);
    resolve({ signal, out });
  }));
}

/** A version directory is complete: its model file is intact. */
async function complete(servicesDir: string, version: string): Promise<boolean> {
  const model = await readFile(join(servicesDir, ID, version, 'models', 'big.bin')).catch(() => undefined);
  return model !== undefined && createHash('sha256').update(model).digest('hex') === MODEL_SHA;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-crash-'));
  const storage = join(tmp, 'storage');
  for (const version of ['1.0.0', '2.0.0']) {
    const built = await buildTinyPackage(tmp, { id: ID, version, files: { 'models/big.bin': MODEL } });
    await publishPackage({ storageDir: storage, zipPath: built.zip });
  }
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('a node killed in the middle of an upgrade', () => {
  it('leaves the old or the new version active at every step, and recovers to a completed install', async () => {
    const cases = Object.entries(KILL_POINTS).map(([killAt, expected], i) => ({ killAt, expected, servicesDir: join(tmp, `node-${i}`) }));
    for (const c of cases) {
      const setup = nodeHarness({ hubUrl: hub.url, servicesDir: c.servicesDir }, { activation: new FakeActivation() });
      await setup.manager.install(ID, '1.0.0');
      await setup.close();
    }
    const exits = await Promise.all(cases.map((c) => runChild(c.servicesDir, c.killAt)));

    for (const [i, c] of cases.entries()) {
      expect([c.killAt, exits[i]?.signal, exits[i]?.out.trim()]).toEqual([c.killAt, 'SIGKILL', `killed at ${c.killAt}`]);
      // Right after the kill: `current` names a complete version, and no version directory is half there.
      const current = await currentOf(c.servicesDir, ID);
      expect([c.killAt, current]).toEqual([c.killAt, c.expected]);
      for (const version of await versionsOf(c.servicesDir, ID)) expect([c.killAt, version, await complete(c.servicesDir, version)]).toEqual([c.killAt, version, true]);

      // The next start: recovery, then the same install again.
      const activation = new FakeActivation();
      const downloads: PackageDownloadResult[] = [];
      const node = nodeHarness({ hubUrl: hub.url, servicesDir: c.servicesDir }, {
        activation,
        hub: (client) => ({ ...client, download: async (r, s) => {
          const result = await client.download(r, s);
          downloads.push(result);
          return result;
        } }),
      });
      const recovery = await node.manager.recover();
      expect([c.killAt, await currentOf(c.servicesDir, ID)]).toEqual([c.killAt, '1.0.0']);
      expect([c.killAt, (await leftovers(c.servicesDir)).staging, (await leftovers(c.servicesDir)).journal]).toEqual([c.killAt, [], []]);
      if (c.killAt.startsWith('extract')) expect(recovery.removedStaging).toHaveLength(1);
      if (c.expected === '2.0.0' || c.killAt === 'writeJournal#1') expect(recovery.reverted).toEqual([{ serviceId: ID, current: '1.0.0' }]);

      const op = await node.manager.install(ID, '2.0.0');
      expect([c.killAt, op.state, await currentOf(c.servicesDir, ID), activation.active.get(ID)]).toEqual([c.killAt, 'succeeded', '2.0.0', '2.0.0']);
      expect(await complete(c.servicesDir, '2.0.0')).toBe(true);
      expect([c.killAt, await leftovers(c.servicesDir)]).toEqual([c.killAt, { staging: [], downloads: [], journal: [], trash: [] }]);
      if (c.killAt === 'download:half') expect(downloads[0]).toMatchObject({ status: 206, resumedFromBytes: expect.any(Number) as number });
      if (c.killAt === 'download:half') expect(downloads[0]?.resumedFromBytes).toBeGreaterThan(0);
      if (c.killAt === 'download') expect(downloads[0]).toMatchObject({ status: 416, fetchedBytes: 0 });
      await node.close();
    }
  }, 120_000);
});
