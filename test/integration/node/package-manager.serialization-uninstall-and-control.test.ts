import { spawn } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoutes } from '../../../src/actors/node/package.routes.js';
import { startHttpServer } from '../../../src/adapters/http-server.adapter.js';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import type { HttpServerHandle } from '../../../src/kernel/ports/http.port.js';
import type { PackageOperation } from '../../../src/protocol/package-control.schema.js';
import { recordPid } from '../../support/pids.js';
import { FakeActivation } from '../../support/packages/fake-activation.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';
import { currentOf, nodeHarness, versionsOf } from '../../support/packages/node-harness.js';
import type { NodeHarness } from '../../support/packages/node-harness.js';

let tmp: string;
let hub: HubHandle;
let activation: FakeActivation;
let node: NodeHarness;

async function settled(h: NodeHarness, operationId: string): Promise<PackageOperation> {
  for (let i = 0; i < 2_000; i++) {
    const op = h.manager.operation(operationId);
    if (op && op.state !== 'running') return op;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`operation ${operationId} did not finish`);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-serial-'));
  const storage = join(tmp, 'storage');
  for (const [id, version] of [['alpha', '1.0.0'], ['alpha', '1.1.0'], ['beta', '1.0.0'], ['gamma', '0.1.0']] as const) {
    const built = await buildTinyPackage(tmp, { id, version });
    await publishPackage({ storageDir: storage, zipPath: built.zip });
  }
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
  activation = new FakeActivation();
  node = nodeHarness({ hubUrl: hub.url, servicesDir: join(tmp, 'services') }, { activation });
});

afterAll(async () => {
  await node?.close();
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('package manager', () => {
  it('serializes operations of one service and runs different services in parallel', async () => {
    activation.hold('alpha', '1.0.0');
    const first = node.manager.begin('install', 'alpha', '1.0.0');
    const second = node.manager.begin('install', 'alpha', '1.1.0');
    const other = node.manager.begin('install', 'beta', '1.0.0');
    await activation.activationStarted('alpha', '1.0.0');
    // beta completes while alpha's first install waits for its activation…
    expect(await settled(node, other.operation_id)).toMatchObject({ state: 'succeeded', outcome: 'installed' });
    // …and alpha's second install has not even resolved its version.
    expect(node.manager.operation(second.operation_id)).toMatchObject({ state: 'running', bytes_done: 0 });
    expect(node.manager.operation(second.operation_id)?.phase).toBeUndefined();
    activation.release('alpha', '1.0.0');
    expect(await settled(node, first.operation_id)).toMatchObject({ state: 'succeeded', version: '1.0.0' });
    expect(await settled(node, second.operation_id)).toMatchObject({ state: 'succeeded', version: '1.1.0' });
    expect(activation.activations('alpha')).toEqual(['1.0.0', '1.1.0']);
    expect(activation.activations('beta')).toEqual(['1.0.0']);
    expect(await currentOf(node.servicesDir, 'alpha')).toBe('1.1.0');
  });

  it('refuses to remove a version a running job uses; removing the active one stops it and repoints current', async () => {
    activation.inUse.set('alpha', new Set(['1.1.0']));
    await expect(node.manager.uninstall('alpha', '1.1.0')).rejects.toMatchObject({ code: 'PACKAGE_IN_USE', details: { versions: ['1.1.0'] } });
    await expect(node.manager.uninstall('alpha')).rejects.toMatchObject({ code: 'PACKAGE_IN_USE' });
    expect(await versionsOf(node.servicesDir, 'alpha')).toEqual(['1.0.0', '1.1.0']);
    activation.inUse.delete('alpha');
    const before = activation.calls.length;
    await expect(node.manager.uninstall('alpha', '1.1.0')).resolves.toMatchObject({ outcome: 'uninstalled' });
    expect(activation.calls.slice(before)).toEqual([{ op: 'deactivate', serviceId: 'alpha' }, { op: 'activate', serviceId: 'alpha', version: '1.0.0' }]);
    expect(await currentOf(node.servicesDir, 'alpha')).toBe('1.0.0');
    expect(node.events.filter((e) => e.type === 'package.uninstalled')).toEqual([{ type: 'package.uninstalled', serviceId: 'alpha', version: '1.1.0' }]);
  });

  it('writes current.json (replaced by rename) where symbolic links are not used', async () => {
    const plain = nodeHarness({ hubUrl: hub.url, servicesDir: join(tmp, 'plain-services'), symlinks: 'never' }, { activation: new FakeActivation() });
    try {
      await plain.manager.install('alpha', '1.0.0');
      await plain.manager.install('alpha', '1.1.0');
      expect(JSON.parse(await readFile(join(plain.servicesDir, 'alpha', 'current.json'), 'utf8'))).toEqual({ version: '1.1.0' });
      await expect(lstat(join(plain.servicesDir, 'alpha', 'current'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await plain.manager.list()).toEqual([{ service_id: 'alpha', active_version: '1.1.0', versions: ['1.1.0', '1.0.0'] }]);
    } finally {
      await plain.close();
    }
  });
});

describe('control endpoint and `linguamesh pkg`', () => {
  let server: HttpServerHandle;
  beforeAll(async () => {
    server = await startHttpServer({ port: 0, routes: packageRoutes(node.manager) });
  });
  afterAll(() => server?.close());

  function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const child = spawn(process.execPath, ['bin/linguamesh.js', 'pkg', ...args, '--node', `http://127.0.0.1:${server.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    recordPid(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  }

  it('answers list, available, operations, and refuses bad requests', async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const available = (await (await request(`${base}/api/packages/available`)).body.json()) as { services: Array<{ service_id: string; installed_versions: string[]; active_version?: string }> };
    expect(available.services.find((s) => s.service_id === 'alpha')).toMatchObject({ installed_versions: ['1.0.0'], active_version: '1.0.0' });
    expect(available.services.find((s) => s.service_id === 'gamma')).toMatchObject({ installed_versions: [] });
    const bad = await request(`${base}/api/packages/install`, { method: 'POST', body: JSON.stringify({ service_id: 'Bad Id' }) });
    expect([bad.statusCode, ((await bad.body.json()) as { code: string }).code]).toEqual([400, 'INVALID_MESSAGE']);
    const useLatest = await request(`${base}/api/packages/use`, { method: 'POST', body: JSON.stringify({ service_id: 'alpha', version: 'latest' }) });
    expect(useLatest.statusCode).toBe(400);
    await useLatest.body.dump();
    const unknown = await request(`${base}/api/packages/operations/op-999`);
    expect(unknown.statusCode).toBe(404);
    await unknown.body.dump();
  });

  it('pkg install follows the operation to its end; pkg list shows it; a failure exits 1 with its code', async () => {
    const installed = await cli('install', 'gamma');
    expect([installed.code, installed.out]).toEqual([0, 'installed gamma@0.1.0\n']);
    expect(installed.err).toMatch(/^gamma@0\.1\.0: (resolve|download|verify|unpack|switch|start)$/m);
    const listed = await cli('list', '--json');
    expect(JSON.parse(listed.out)).toContainEqual({ service_id: 'gamma', active_version: '0.1.0', versions: ['0.1.0'] });
    const failed = await cli('install', 'gamma@9.9.9');
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/^error VERSION_NOT_FOUND: /m);
  }, 60_000);
});
