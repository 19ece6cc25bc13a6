import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import { describeSigningKey, signPackageDigest } from '../../../src/protocol/package-signature.js';
import { FakeActivation } from '../../support/packages/fake-activation.js';
import { buildTinyPackage, placePackage, renameEntry, setDeclaredSize, tinyEntries, tinyServiceJson, zipBuffer } from '../../support/packages/package-fixtures.js';
import type { RawEntry } from '../../support/packages/package-fixtures.js';
import { currentOf, leftovers, metricValue, nodeHarness, versionsOf } from '../../support/packages/node-harness.js';
import type { NodeHarness } from '../../support/packages/node-harness.js';

const ID = 'tiny';
let tmp: string;
let storage: string;
let hub: HubHandle;
let activation: FakeActivation;
let node: NodeHarness;
let minor = 0;
const keyA = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const keyB = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

/** A fresh version number for each case (hub versions are immutable). */
const nextVersion = () => `2.${++minor}.0`;

async function placeEntries(version: string, entries: RawEntry[], options: Parameters<typeof placePackage>[4] = {}): Promise<void> {
  await placePackage(storage, ID, version, await zipBuffer(entries), options);
}

/** The refused version left nothing: no directory, no staging, no download, no journal; 1.0.0 stays active. */
async function expectUntouched(h: NodeHarness, version: string): Promise<void> {
  expect(await versionsOf(h.servicesDir, ID)).toEqual(['1.0.0']);
  expect(await currentOf(h.servicesDir, ID)).toBe('1.0.0');
  expect(await leftovers(h.servicesDir)).toEqual({ staging: [], downloads: [], journal: [], trash: [] });
  expect(activation.activations(ID)).not.toContain(version);
  expect(activation.active.get(ID)).toBe('1.0.0');
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-hostile-'));
  storage = join(tmp, 'storage');
  const base = await buildTinyPackage(tmp, { id: ID, version: '1.0.0' });
  await publishPackage({ storageDir: storage, zipPath: base.zip, signingKeyPem: keyA });
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1' });
  activation = new FakeActivation();
  node = nodeHarness({ hubUrl: hub.url, servicesDir: join(tmp, 'services') }, { activation });
  await node.manager.install(ID, '1.0.0');
});

afterAll(async () => {
  await node?.close();
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('hostile and broken packages are refused before anything is installed', () => {
  it('a zip whose bytes do not match the hub checksum → CHECKSUM_MISMATCH', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version), { sha256: 'f'.repeat(64) });
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', details: { expectedSha256: 'f'.repeat(64) } });
    await expectUntouched(node, version);
  });

  it('a truncated zip (its checksum matching, its central directory gone) → INVALID_ARCHIVE', async () => {
    const version = nextVersion();
    const whole = await zipBuffer(tinyEntries(ID, version));
    await placePackage(storage, ID, version, whole.subarray(0, whole.length - 40));
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    await expectUntouched(node, version);
  });

  it('zip-slip and absolute entries → UNSAFE_ARCHIVE_ENTRY, nothing written outside', async () => {
    for (const [placeholder, hostile] of [['xx/evil.txt', '../evil.txt'], ['xtmp/x.txt', '/tmp/x.txt'], ['a/xx/e.txt', 'a/../e.txt']]) {
      const version = nextVersion();
      const zip = renameEntry(await zipBuffer(tinyEntries(ID, version, [{ name: placeholder as string, data: 'pwned' }])), placeholder as string, hostile as string);
      await placePackage(storage, ID, version, zip);
      await expect(node.manager.install(ID, version), hostile).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE_ENTRY' });
      await expectUntouched(node, version);
    }
    await expect(readdir(join(node.servicesDir, '.packages'))).resolves.not.toContain('evil.txt');
  });

  it('a symbolic-link entry pointing out of the package → UNSAFE_ARCHIVE_ENTRY', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version, [{ name: 'models/link', data: '../../../../../etc/passwd', mode: 0o120777 }]));
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE_ENTRY', details: { reason: 'symbolic link' } });
    await expectUntouched(node, version);
  });

  it('a zip bomb (compression ratio past the bound) → UNSAFE_ARCHIVE_ENTRY', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version, [{ name: 'models/zeros.bin', data: Buffer.alloc(16 * 1024 * 1024) }]));
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE_ENTRY', details: { reason: 'compression ratio above 100' } });
    await expectUntouched(node, version);
  });

  it('an entry inflating past its declared size → UNSAFE_ARCHIVE_ENTRY (bytes written are counted)', async () => {
    const version = nextVersion();
    const zip = setDeclaredSize(await zipBuffer(tinyEntries(ID, version, [{ name: 'models/lies.bin', data: 'A'.repeat(300_000) }])), 'models/lies.bin', 1_000);
    await placePackage(storage, ID, version, zip);
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE_ENTRY', details: { reason: 'more bytes than its declared size' } });
    await expectUntouched(node, version);
  });

  it('entries adding up past max_unpacked_bytes → UNSAFE_ARCHIVE_ENTRY', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version, [{ name: 'models/big.bin', data: randomBytes(200_000), compress: false }]));
    const small = nodeHarness({ hubUrl: hub.url, servicesDir: node.servicesDir, maxUnpackedBytes: 100_000 }, { activation });
    try {
      await expect(small.manager.install(ID, version)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE_ENTRY' });
    } finally {
      await small.close();
    }
    await expectUntouched(node, version);
  });

  it('service.json missing, invalid, or naming another id or version → INVALID_SERVICE_JSON', async () => {
    const variants = (version: string): RawEntry[][] => [
      [{ name: 'server.mjs', data: 'x' }],
      [{ name: 'service.json', data: '{"id": "tiny", oops' }],
      [{ name: 'service.json', data: JSON.stringify({ ...tinyServiceJson(ID, version), exec: undefined }) }],
      [{ name: 'service.json', data: JSON.stringify(tinyServiceJson('other', version)) }],
      [{ name: 'service.json', data: JSON.stringify(tinyServiceJson(ID, '9.9.9')) }],
    ];
    for (let i = 0; i < 5; i++) {
      const version = nextVersion();
      await placeEntries(version, variants(version)[i] ?? []);
      await expect(node.manager.install(ID, version), `variant ${i}`).rejects.toMatchObject({ code: 'INVALID_SERVICE_JSON' });
      await expectUntouched(node, version);
    }
  });

  it('a file that does not match the in-package checksum.sha256 → CHECKSUM_MISMATCH', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version, [{ name: 'checksum.sha256', data: JSON.stringify({ 'server.mjs': '0'.repeat(64) }) }]));
    await expect(node.manager.install(ID, version)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', details: { path: 'server.mjs' } });
    await expectUntouched(node, version);
  });

  it('not enough free disk (through the disk port) → INSUFFICIENT_DISK before any download', async () => {
    const version = nextVersion();
    await placeEntries(version, tinyEntries(ID, version));
    const full = nodeHarness({ hubUrl: hub.url, servicesDir: node.servicesDir }, { activation, disk: { freeBytes: async () => 1_000 } });
    const before = metricValue(await hub.metrics(), 'linguamesh_hub_file_bytes_sent_total', { kind: 'package' });
    try {
      await expect(full.manager.install(ID, version)).rejects.toMatchObject({ code: 'INSUFFICIENT_DISK', details: { freeBytes: 1_000 } });
    } finally {
      await full.close();
    }
    expect(metricValue(await hub.metrics(), 'linguamesh_hub_file_bytes_sent_total', { kind: 'package' })).toBe(before);
    await expectUntouched(node, version);
  });

  it('a 416 for an already complete partial download means complete: installed with no byte re-sent', async () => {
    const version = nextVersion();
    const zip = await zipBuffer(tinyEntries(ID, version));
    const { sha256 } = await placePackage(storage, ID, version, zip);
    const downloads = join(node.servicesDir, '.packages', 'downloads');
    await mkdir(downloads, { recursive: true });
    await writeFile(join(downloads, `${ID}@${version}-${sha256.slice(0, 16)}.zip.partial`), zip);
    const metrics = async () => ({ bytes: metricValue(await hub.metrics(), 'linguamesh_hub_file_bytes_sent_total', { kind: 'package' }), refused: metricValue(await hub.metrics(), 'linguamesh_hub_file_responses_total', { kind: 'package', status: '416' }) });
    const before = await metrics();
    await expect(node.manager.install(ID, version)).resolves.toMatchObject({ outcome: 'installed', version });
    expect(await metrics()).toEqual({ bytes: before.bytes, refused: before.refused + 1 });
    await expect(node.manager.use(ID, '1.0.0')).resolves.toMatchObject({ outcome: 'switched' });
    await node.manager.uninstall(ID, version);
  });
});

describe('signatures (§10.6, checklist 39)', () => {
  let signed: NodeHarness;
  beforeAll(() => {
    const a = describeSigningKey(keyA);
    signed = nodeHarness({ hubUrl: hub.url, servicesDir: node.servicesDir, hubKeys: { [a.keyId]: a.publicKey } }, { activation });
  });
  afterAll(() => signed?.close());

  it('a package signed by another key → SIGNATURE_INVALID; no version directory; the previous version stays active', async () => {
    const version = nextVersion();
    const zip = await zipBuffer(tinyEntries(ID, version));
    const { sha256 } = await placePackage(storage, ID, version, zip);
    await placePackage(storage, ID, version, zip, { signature: signPackageDigest(sha256, keyB) });
    await expect(signed.manager.install(ID, version)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID', details: { reason: 'unknown_key' } });
    await expectUntouched(node, version);
    const forged = { ...signPackageDigest(sha256, keyB), key_id: describeSigningKey(keyA).keyId };
    await placePackage(storage, ID, version, zip, { signature: forged });
    await expect(signed.manager.install(ID, version)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID', details: { reason: 'bad_signature' } });
    await expectUntouched(node, version);
  });

  it('an unsigned package → SIGNATURE_MISSING; a package signed by the hub key installs', async () => {
    const version = nextVersion();
    const zip = await zipBuffer(tinyEntries(ID, version));
    const { sha256 } = await placePackage(storage, ID, version, zip);
    await expect(signed.manager.install(ID, version)).rejects.toMatchObject({ code: 'SIGNATURE_MISSING' });
    await expectUntouched(node, version);
    await placePackage(storage, ID, version, zip, { signature: signPackageDigest(sha256, keyA) });
    await expect(signed.manager.install(ID, version)).resolves.toMatchObject({ outcome: 'installed' });
    expect(await currentOf(node.servicesDir, ID)).toBe(version);
    await signed.manager.use(ID, '1.0.0');
    await signed.manager.uninstall(ID, version);
    expect(JSON.parse(await readFile(join(storage, 'services', ID, '1.0.0.json'), 'utf8'))).toHaveProperty('signature.key_id', describeSigningKey(keyA).keyId);
  });
});

describe('operations refused before they start', () => {
  it('names what is wrong with a request', async () => {
    await expect(node.manager.install('Not_An_Id')).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(node.manager.install(ID, '1.0')).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(node.manager.install('nobody')).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
    await expect(node.manager.install(ID, '7.7.7')).rejects.toMatchObject({ code: 'VERSION_NOT_FOUND' });
    await expect(node.manager.use(ID, '7.7.7')).rejects.toMatchObject({ code: 'VERSION_NOT_INSTALLED' });
    await expect(node.manager.uninstall('nobody')).rejects.toMatchObject({ code: 'NOT_INSTALLED' });
    await expect(node.manager.install(ID, '1.0.0')).resolves.toMatchObject({ outcome: 'unchanged' });
  });
});
