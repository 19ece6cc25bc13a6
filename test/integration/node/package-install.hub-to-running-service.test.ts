import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';
import { currentOf, leftovers, nodeHarness, versionsOf } from '../../support/packages/node-harness.js';
import type { NodeHarness } from '../../support/packages/node-harness.js';
import { ProcessActivation } from '../../support/packages/process-activation.js';

let tmp: string;
let storage: string;
let hub: HubHandle;
let node: NodeHarness;
let activation: ProcessActivation;

async function publish(version: string, mode: 'ok' | 'exit' = 'ok') {
  const built = await buildTinyPackage(tmp, { id: 'tiny-echo', version, mode });
  await publishPackage({ storageDir: storage, zipPath: built.zip });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-e2e-'));
  storage = join(tmp, 'storage');
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
  const servicesDir = join(tmp, 'services');
  activation = new ProcessActivation(servicesDir);
  node = nodeHarness({ hubUrl: hub.url, servicesDir }, { activation });
});

afterAll(async () => {
  await activation?.closeAll();
  await node?.close();
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('hub → node: publish, install, hot-switch, roll back', () => {
  it('installs the latest version, which runs and answers /health', async () => {
    await publish('1.0.0');
    const op = await node.manager.install('tiny-echo');
    expect(op).toMatchObject({ state: 'succeeded', outcome: 'installed', version: '1.0.0' });
    expect(await activation.health('tiny-echo')).toEqual({ version: '1.0.0', body: { status: 'ok', version: '1.0.0' } });
    expect(await currentOf(node.servicesDir, 'tiny-echo')).toBe('1.0.0');
    expect(node.events).toContainEqual({ type: 'package.installed', serviceId: 'tiny-echo', version: '1.0.0' });
    expect(node.events.filter((e) => e.type === 'package.progress').map((e) => e.type === 'package.progress' && e.phase)).toEqual(expect.arrayContaining(['resolve', 'download', 'verify', 'unpack', 'switch', 'start']));
    expect(await leftovers(node.servicesDir)).toEqual({ staging: [], downloads: [], journal: [], trash: [] });
  });

  it('switches to a new version: the new process serves, the old version stays installed', async () => {
    await publish('1.1.0');
    await expect(node.manager.install('tiny-echo', '1.1.0')).resolves.toMatchObject({ outcome: 'installed', version: '1.1.0' });
    expect(await activation.health('tiny-echo')).toMatchObject({ version: '1.1.0', body: { version: '1.1.0' } });
    expect(await currentOf(node.servicesDir, 'tiny-echo')).toBe('1.1.0');
    expect(await versionsOf(node.servicesDir, 'tiny-echo')).toEqual(['1.0.0', '1.1.0']);
  });

  it('a new version that dies at start is rolled back: the previous version runs again, the broken one is gone', async () => {
    await publish('1.2.0', 'exit');
    await expect(node.manager.install('tiny-echo')).rejects.toMatchObject({ code: 'ACTIVATION_FAILED' });
    expect(await currentOf(node.servicesDir, 'tiny-echo')).toBe('1.1.0');
    expect(await versionsOf(node.servicesDir, 'tiny-echo')).toEqual(['1.0.0', '1.1.0']);
    expect(await activation.health('tiny-echo')).toMatchObject({ version: '1.1.0', body: { status: 'ok' } });
    expect(activation.calls.slice(-2)).toEqual(['activate tiny-echo@1.2.0', 'activate tiny-echo@1.1.0']);
    expect(node.events).toContainEqual(expect.objectContaining({ type: 'package.failed', serviceId: 'tiny-echo', version: '1.2.0', code: 'ACTIVATION_FAILED' }));
    expect(await leftovers(node.servicesDir)).toEqual({ staging: [], downloads: [], journal: [], trash: [] });
  });

  it('use switches back to an installed version without a download; uninstall repoints current', async () => {
    await expect(node.manager.use('tiny-echo', '1.0.0')).resolves.toMatchObject({ outcome: 'switched', version: '1.0.0' });
    expect(await activation.health('tiny-echo')).toMatchObject({ version: '1.0.0' });
    await expect(node.manager.uninstall('tiny-echo', '1.0.0')).resolves.toMatchObject({ outcome: 'uninstalled' });
    expect(await currentOf(node.servicesDir, 'tiny-echo')).toBe('1.1.0');
    expect(await activation.health('tiny-echo')).toMatchObject({ version: '1.1.0' });
    expect(await node.manager.list()).toEqual([{ service_id: 'tiny-echo', active_version: '1.1.0', versions: ['1.1.0'] }]);
    expect(node.events).toContainEqual({ type: 'package.uninstalled', serviceId: 'tiny-echo', version: '1.0.0' });
    await expect(node.manager.uninstall('tiny-echo')).resolves.toMatchObject({ outcome: 'uninstalled' });
    expect(await activation.health('tiny-echo')).toBeUndefined();
    expect(await versionsOf(node.servicesDir, 'tiny-echo')).toEqual([]);
    expect(await node.manager.list()).toEqual([]);
  });
});
