import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import type { PackageDownloadResult } from '../../../src/kernel/ports/hub-client.port.js';
import { startCutProxy } from '../../support/packages/cut-proxy.js';
import type { CutProxy } from '../../support/packages/cut-proxy.js';
import { FakeActivation } from '../../support/packages/fake-activation.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';
import { currentOf, leftovers, metricValue, nodeHarness } from '../../support/packages/node-harness.js';
import type { NodeHarness } from '../../support/packages/node-harness.js';

const ID = 'big';
const MODEL_BYTES = 4 * 1024 * 1024;
let tmp: string;
let hub: HubHandle;
let proxy: CutProxy;
let node: NodeHarness;
const sizes = new Map<string, number>();
const results: PackageDownloadResult[] = [];

async function bytesSent(): Promise<number> {
  return metricValue(await hub.metrics(), 'linguamesh_hub_file_bytes_sent_total', { kind: 'package' });
}

async function partialSize(): Promise<number> {
  const dir = join(node.servicesDir, '.packages', 'downloads');
  const [name] = await readdir(dir).catch(() => []);
  return name === undefined ? 0 : (await stat(join(dir, name))).size;
}

/** Advances the fake clock (retry backoffs, stall timers) until `promise` settles, letting real I/O run between steps. */
async function driveClock(promise: Promise<unknown>, stepMs = 500, maxSteps = 400): Promise<void> {
  let settled = false;
  void promise.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < maxSteps && !settled; i++) {
    await node.clock.advanceAsync(stepMs);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-resume-'));
  const storage = join(tmp, 'storage');
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
    const built = await buildTinyPackage(tmp, { id: ID, version, files: { 'models/big.bin': randomBytes(MODEL_BYTES) } });
    await publishPackage({ storageDir: storage, zipPath: built.zip });
    sizes.set(version, built.sizeBytes);
  }
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
  proxy = await startCutProxy(hub.url);
  node = nodeHarness(
    { hubUrl: proxy.url, servicesDir: join(tmp, 'services'), downloadRetries: 3, retryMinMs: 1_000, retryMaxMs: 4_000, downloadStallTimeoutMs: 10_000 },
    {
      activation: new FakeActivation(),
      hub: (client) => ({
        ...client,
        download: async (request, signal) => {
          const result = await client.download(request, signal);
          results.push(result);
          return result;
        },
      }),
    },
  );
});

afterAll(async () => {
  await node?.close();
  await proxy?.close();
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('downloads that break', () => {
  it('the hub dying mid-download and staying away → HUB_UNREACHABLE after the bounded retries, partial kept', async () => {
    const size = sizes.get('1.0.0') ?? 0;
    proxy.cutAfterBytes = Math.floor(size / 2);
    const install = node.manager.install(ID, '1.0.0');
    // The first attempt is cut at half; from then on the hub refuses connections.
    for (let i = 0; i < 400 && (await partialSize()) < Math.floor(size / 2); i++) await new Promise((r) => setTimeout(r, 5));
    proxy.refusing = true;
    const outcome = expect(install).rejects.toMatchObject({ code: 'HUB_UNREACHABLE', details: { attempts: 4 } });
    await driveClock(install);
    await outcome;
    const kept = await partialSize();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBe(Math.floor(size / 2));
    expect(await currentOf(node.servicesDir, ID)).toBeUndefined();
    expect((await leftovers(node.servicesDir)).staging).toEqual([]);
  });

  it('after a restart only the missing bytes are fetched (Range + If-Range), counted by the hub', async () => {
    proxy.refusing = false;
    proxy.cutAfterBytes = undefined;
    const size = sizes.get('1.0.0') ?? 0;
    const kept = await partialSize();
    const before = await bytesSent();
    await expect(node.manager.install(ID, '1.0.0')).resolves.toMatchObject({ outcome: 'installed' });
    expect(await bytesSent()).toBe(before + size - kept);
    expect(proxy.zipRanges.at(-1)).toBe(`bytes=${kept}-`);
    expect(results.at(-1)).toMatchObject({ status: 206, resumedFromBytes: kept, fetchedBytes: size - kept, sizeBytes: size });
    expect(await leftovers(node.servicesDir)).toEqual({ staging: [], downloads: [], journal: [], trash: [] });
  });

  it('a body that stops flowing is abandoned after the stall timeout (fake clock) and resumed', async () => {
    const size = sizes.get('1.1.0') ?? 0;
    const requestsBefore = proxy.zipRanges.length;
    proxy.stallAfterBytes = Math.floor(size / 3);
    const install = node.manager.install(ID, '1.1.0');
    for (let i = 0; i < 400 && (await partialSize()) < Math.floor(size / 3); i++) await new Promise((r) => setTimeout(r, 5));
    proxy.stallAfterBytes = undefined;
    await node.clock.advanceAsync(9_999);
    expect(proxy.zipRanges.length).toBe(requestsBefore + 1);
    await driveClock(install, 1_000);
    await expect(install).resolves.toMatchObject({ outcome: 'installed', version: '1.1.0' });
    expect(proxy.zipRanges.slice(requestsBefore)).toEqual(['', `bytes=${Math.floor(size / 3)}-`]);
    expect(results.at(-1)).toMatchObject({ status: 206, resumedFromBytes: Math.floor(size / 3), sizeBytes: size });
  });

  it('a cancelled download keeps its partial; a hub that ignores Range (200) restarts the file from byte 0', async () => {
    const size = sizes.get('1.2.0') ?? 0;
    const controller = new AbortController();
    const unsubscribe = node.bus.subscribe('package.progress', (e) => {
      if (e.phase === 'download' && e.bytesDone >= size / 2) controller.abort();
    });
    await expect(node.manager.install(ID, '1.2.0', { signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    unsubscribe();
    const kept = await partialSize();
    expect(kept).toBeGreaterThanOrEqual(size / 2);
    expect(kept).toBeLessThan(size);
    proxy.dropRange = true;
    await expect(node.manager.install(ID, '1.2.0')).resolves.toMatchObject({ outcome: 'installed' });
    proxy.dropRange = false;
    expect(results.at(-1)).toMatchObject({ status: 200, resumedFromBytes: kept, fetchedBytes: size, sizeBytes: size });
    expect(await currentOf(node.servicesDir, ID)).toBe('1.2.0');
  });
});
