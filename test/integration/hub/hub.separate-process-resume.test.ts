/**
 * The hub as its own OS process (`linguamesh hub`), packages built and published with the CLI
 * (`pkg pack`, `pkg publish --sign`), and a node installing from it. The hub process is killed
 * at about half of the download and started again on the same port: the node resumes, and the new
 * hub's byte counter shows that only the missing bytes were sent.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackageDownloadResult } from '../../../src/kernel/ports/hub-client.port.js';
import { describeSigningKey } from '../../../src/protocol/package-signature.js';
import { runCli, startHubProcess } from '../../support/packages/cli-process.js';
import type { HubProcess } from '../../support/packages/cli-process.js';
import { FakeActivation } from '../../support/packages/fake-activation.js';
import { tinyServer, tinyServiceJson } from '../../support/packages/package-fixtures.js';
import { currentOf, metricValue, nodeHarness } from '../../support/packages/node-harness.js';

let tmp: string;
let storage: string;
const hubs = new Set<HubProcess>();

/** A hub process on `port` over this test's storage, killed in afterAll if still running. */
async function startHub(port: number): Promise<HubProcess> {
  const hub = await startHubProcess({ storage, port });
  hubs.add(hub);
  return hub;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-hubproc-'));
  storage = join(tmp, 'storage');
  const dir = join(tmp, 'svc');
  await mkdir(join(dir, 'models'), { recursive: true });
  await writeFile(join(dir, 'service.json'), JSON.stringify(tinyServiceJson('big-mt', '3.0.0')));
  await writeFile(join(dir, 'server.mjs'), tinyServer('3.0.0', 'ok'));
  await writeFile(join(dir, 'models', 'weights.bin'), randomBytes(24 * 1024 * 1024));
});

afterAll(async () => {
  for (const hub of hubs) if (hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('a hub process', () => {
  it('serves CLI-published signed packages; killed mid-download and restarted, it sends only the missing bytes', async () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(join(tmp, 'key.pem'), key);
    const packed = await runCli(['pkg', 'pack', join(tmp, 'svc'), '--out', join(tmp, 'big-mt.zip')]);
    expect(packed.code).toBe(0);
    const [sha256] = packed.stdout.trim().split(/\s+/);
    const published = await runCli(['pkg', 'publish', join(tmp, 'big-mt.zip'), '--storage', storage, '--sign', join(tmp, 'key.pem')]);
    expect([published.code, published.stdout.trim()]).toEqual([0, `published big-mt@3.0.0 ${sha256} signed`]);
    const size = (await stat(join(tmp, 'big-mt.zip'))).size;

    const first = await startHub(0);
    const hubUrl = `http://127.0.0.1:${first.port}`;
    const signature = (await (await request(`${hubUrl}/api/services/big-mt/3.0.0/signature`)).body.json()) as { key_id: string };
    const { keyId, publicKey } = describeSigningKey(key);
    expect(signature.key_id).toBe(keyId);

    const results: PackageDownloadResult[] = [];
    const failures: unknown[] = [];
    const activation = new FakeActivation();
    const node = nodeHarness({ hubUrl, servicesDir: join(tmp, 'services'), hubKeys: { [keyId]: publicKey }, retryMinMs: 1_000 }, {
      activation,
      hub: (client) => ({ ...client, download: async (r, s) => {
        try {
          const result = await client.download(r, s);
          results.push(result);
          return result;
        } catch (err) {
          failures.push(err);
          throw err;
        }
      } }),
    });
    try {
      node.bus.subscribe('package.progress', (e) => {
        if (e.phase === 'download' && e.bytesDone >= size / 2 && first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
      });
      const install = node.manager.install('big-mt');
      await first.exited;
      // The partial file is final once the attempt has failed (the retry then waits on the fake clock).
      for (let i = 0; i < 1_000 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(failures).toEqual([expect.objectContaining({ code: 'HUB_UNREACHABLE', retryable: true })]);
      const downloads = join(node.servicesDir, '.packages', 'downloads');
      const [partialName = ''] = await readdir(downloads);
      const partial = (await stat(join(downloads, partialName))).size;
      expect(partial).toBeGreaterThanOrEqual(size / 2);
      expect(partial).toBeLessThan(size);

      const second = await startHub(first.port);
      let settled = false;
      void install.finally(() => (settled = true)).catch(() => undefined);
      for (let i = 0; i < 200 && !settled; i++) {
        await node.clock.advanceAsync(1_000);
        await new Promise((r) => setTimeout(r, 10));
      }
      await expect(install).resolves.toMatchObject({ outcome: 'installed', version: '3.0.0' });
      expect(results).toEqual([expect.objectContaining({ status: 206, resumedFromBytes: partial, fetchedBytes: size - partial, sizeBytes: size, sha256 })]);
      const metrics = await (await request(`${hubUrl}/metrics`)).body.text();
      expect(metricValue(metrics, 'linguamesh_hub_file_bytes_sent_total', { kind: 'package' })).toBe(size - partial);
      expect(metricValue(metrics, 'linguamesh_hub_file_responses_total', { kind: 'package', status: '206' })).toBe(1);
      expect(await currentOf(node.servicesDir, 'big-mt')).toBe('3.0.0');
      expect(activation.active.get('big-mt')).toBe('3.0.0');
      second.child.kill('SIGTERM');
      await second.exited;
    } finally {
      await node.close();
    }
  }, 120_000);
});
