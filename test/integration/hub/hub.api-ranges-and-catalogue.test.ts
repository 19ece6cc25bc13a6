import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { startHub } from '../../../src/cli/start-hub.js';
import type { HubHandle } from '../../../src/cli/start-hub.js';
import { buildTinyPackage } from '../../support/packages/package-fixtures.js';

let tmp: string;
let storage: string;
let hub: HubHandle;
let zip: Buffer;
let sha: string;
const ZIP_URL = '/storage/services/tts-es/1.10.0.zip';

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(`${hub.url}${path}`, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as unknown };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-hub-'));
  storage = join(tmp, 'storage');
  for (const version of ['1.9.0', '1.10.0', '2.0.0-rc.1']) {
    const built = await buildTinyPackage(tmp, { id: 'tts-es', version });
    await publishPackage({ storageDir: storage, zipPath: built.zip });
  }
  zip = await readFile(join(storage, 'services', 'tts-es', '1.10.0.zip'));
  sha = createHash('sha256').update(zip).digest('hex');
  const models = join(storage, 'models', 'whisper');
  for (const version of ['1.9.0', '1.10.0']) {
    await mkdir(join(models, version, 'sub'), { recursive: true });
    await writeFile(join(models, version, 'a.bin'), `weights ${version}`);
    await writeFile(join(models, version, 'sub', 'b.txt'), 'vocab');
  }
  await writeFile(join(models, '1.10.0', 'checksum.sha256'), JSON.stringify({ 'a.bin': createHash('sha256').update('weights 1.10.0').digest('hex') }));
  await writeFile(join(models, 'model.json'), JSON.stringify({ name: 'Whisper', task: 'asr', languages: ['en', 'zh'] }));
  hub = await startHub({ storageDir: storage, port: 0, host: '127.0.0.1', adoptAfterMs: 0 });
});

afterAll(async () => {
  await hub?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe('hub downloads (§10.4, checklist 37)', () => {
  it('serves the whole zip with its headers, and the checksum endpoint matches the body', async () => {
    const r = await get(ZIP_URL);
    expect(r.status).toBe(200);
    expect(r.body.equals(zip)).toBe(true);
    expect(r.headers).toMatchObject({
      'content-type': 'application/zip',
      'content-length': String(zip.length),
      'accept-ranges': 'bytes',
      etag: `"${sha}"`,
      'content-disposition': 'attachment; filename="tts-es-1.10.0.zip"',
    });
    const checksum = await get('/api/services/tts-es/1.10.0/checksum');
    expect(checksum.json()).toEqual({ service_id: 'tts-es', version: '1.10.0', sha256: createHash('sha256').update(r.body).digest('hex'), size_bytes: zip.length });
  });

  it('answers single ranges with 206, clamps ends, serves suffixes, refuses unsatisfiable ones with 416 bytes */size', async () => {
    const first = await get(ZIP_URL, { range: 'bytes=0-99' });
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${zip.length}`);
    expect(first.body.equals(zip.subarray(0, 100))).toBe(true);
    const past = await get(ZIP_URL, { range: `bytes=${zip.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${zip.length}`);
    const last = await get(ZIP_URL, { range: 'bytes=-10' });
    expect(last.status).toBe(206);
    expect(last.body.equals(zip.subarray(zip.length - 10))).toBe(true);
    const clamped = await get(ZIP_URL, { range: 'bytes=10-99999999' });
    expect(clamped.status).toBe(206);
    expect(clamped.headers['content-range']).toBe(`bytes 10-${zip.length - 1}/${zip.length}`);
    expect(clamped.body.equals(zip.subarray(10))).toBe(true);
    const open = await get(ZIP_URL, { range: 'bytes=100-' });
    expect(open.body.equals(zip.subarray(100))).toBe(true);
    const longSuffix = await get(ZIP_URL, { range: `bytes=-${zip.length * 3}` });
    expect(longSuffix.status).toBe(206);
    expect(longSuffix.headers['content-range']).toBe(`bytes 0-${zip.length - 1}/${zip.length}`);
    expect(longSuffix.body.equals(zip)).toBe(true);
    for (const range of ['bytes=-0', 'bytes=50-10']) {
      const refused = await get(ZIP_URL, { range });
      expect(refused.status).toBe(416);
      expect(refused.headers['content-range']).toBe(`bytes */${zip.length}`);
    }
  });

  it('ignores several ranges, other units and a non-matching If-Range (200, whole body)', async () => {
    const cases: Array<Record<string, string>> = [{ range: 'bytes=0-10,11-20' }, { range: 'bytes=0-10,99999999-' }, { range: 'items=0-10' }, { range: 'bytes=0-10', 'if-range': `"${'0'.repeat(64)}"` }, { range: 'bytes=0-10', 'if-range': `W/"${sha}"` }];
    for (const headers of cases) {
      const r = await get(ZIP_URL, headers);
      expect(r.status, JSON.stringify(headers)).toBe(200);
      expect(r.body.equals(zip)).toBe(true);
    }
    const resumed = await get(ZIP_URL, { range: 'bytes=100-', 'if-range': `"${sha}"` });
    expect(resumed.status).toBe(206);
    expect(resumed.body.equals(zip.subarray(100))).toBe(true);
  });

  it('If-None-Match with the ETag or * → 304 with the ETag and no body, even with no-cache', async () => {
    const conditional: Array<Record<string, string>> = [{ 'if-none-match': `"${sha}"` }, { 'if-none-match': '*' }, { 'if-none-match': `"x", W/"${sha}"` }, { 'if-none-match': `"${sha}"`, 'cache-control': 'no-cache' }];
    for (const headers of conditional) {
      const r = await get(ZIP_URL, headers);
      expect(r.status).toBe(304);
      expect(r.headers.etag).toBe(`"${sha}"`);
      expect(r.body).toHaveLength(0);
    }
    expect((await get(ZIP_URL, { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('HEAD gives the headers without the body', async () => {
    const r = await get(ZIP_URL, {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(zip.length));
    expect(r.body).toHaveLength(0);
  });
});

describe('hub catalogue (§10.1–§10.3, checklist 38)', () => {
  it('latest_version is the highest stable version; lists are sorted highest first; latest.zip redirects', async () => {
    const list = (await get('/api/services')).json() as { services: Array<{ latest_version: string; versions: Array<{ version: string; stable: boolean }> }> };
    expect(list.services).toHaveLength(1);
    expect(list.services[0]?.latest_version).toBe('1.10.0');
    expect(list.services[0]?.versions.map((v) => [v.version, v.stable])).toEqual([['2.0.0-rc.1', false], ['1.10.0', true], ['1.9.0', true]]);
    const detail = (await get('/api/services/tts-es')).json() as { latest_version: string; versions: Array<{ sha256: string; download_url: string }> };
    expect(detail.latest_version).toBe('1.10.0');
    expect(detail.versions[1]).toMatchObject({ sha256: sha, download_url: ZIP_URL });
    const redirect = await get('/storage/services/tts-es/latest.zip');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(ZIP_URL);
  });

  it('validates parameters (400), names what is missing (404), refuses other methods', async () => {
    for (const path of ['/api/services/Bad_Id', '/api/services/tts-es/1.0/checksum', '/api/services/tts-es/latest/checksum', '/storage/services/tts-es/1.0.zip', '/storage/services/-x/1.0.0.zip', '/api/models/-bad']) {
      const r = await get(path);
      expect([path, r.status, r.json()]).toEqual([path, 400, { detail: 'Invalid parameter' }]);
    }
    expect((await get('/api/services/nope')).json()).toEqual({ detail: 'Service not found' });
    expect((await get('/api/services/tts-es/9.9.9/checksum')).json()).toEqual({ detail: 'Version not found' });
    expect((await get('/storage/services/tts-es/9.9.9.zip')).json()).toEqual({ detail: 'Version not found' });
    expect((await get('/storage/services/nope/1.0.0.zip')).json()).toEqual({ detail: 'Service not found' });
    const unsigned = await get('/api/services/tts-es/1.10.0/signature');
    expect(unsigned.status).toBe(404);
    expect((await get('/nothing/here')).json()).toEqual({ detail: 'Not Found' });
    expect((await get(ZIP_URL, {}, 'POST')).status).toBe(405);
    expect((await get('/health')).json()).toEqual({ status: 'OK' });
    expect((await get('/')).json()).toEqual({ message: 'linguamesh model hub', version: '0.1.0' });
  });

  it('lists a package published while it runs at once (on-demand rescan), and adopts a bare zip', async () => {
    const built = await buildTinyPackage(tmp, { id: 'tts-es', version: '1.11.0' });
    await publishPackage({ storageDir: storage, zipPath: built.zip, stable: false });
    const checksum = await get('/api/services/tts-es/1.11.0/checksum');
    expect(checksum.json()).toEqual({ service_id: 'tts-es', version: '1.11.0', sha256: built.sha256, size_bytes: built.sizeBytes });
    expect(((await get('/api/services/tts-es')).json() as { latest_version: string }).latest_version).toBe('1.10.0');

    const bare = await buildTinyPackage(tmp, { id: 'asr-en', version: '0.3.0' });
    await mkdir(join(storage, 'services', 'asr-en'), { recursive: true });
    await copyFile(bare.zip, join(storage, 'services', 'asr-en', '0.3.0.zip'));
    const detail = (await get('/api/services/asr-en')).json() as { latest_version: string; versions: Array<{ sha256: string }> };
    expect(detail.latest_version).toBe('0.3.0');
    expect(detail.versions[0]?.sha256).toBe(bare.sha256);
    expect(JSON.parse(await readFile(join(storage, 'services', 'asr-en', '0.3.0.json'), 'utf8'))).toMatchObject({ sha256: bare.sha256, stable: true });
  });

  it('refuses with 403 a file that resolves outside the storage root', async () => {
    const outside = await buildTinyPackage(tmp, { id: 'evil', version: '1.0.0' });
    await mkdir(join(storage, 'services', 'evil'), { recursive: true });
    await symlink(outside.zip, join(storage, 'services', 'evil', '1.0.0.zip'));
    const r = await get('/storage/services/evil/1.0.0.zip');
    expect(r.status).toBe(403);
    expect(r.body.includes(Buffer.from('PK'))).toBe(false);
  });
});

describe('legacy model API (§10.7)', () => {
  it('lists every version with files and checksums; default_version is the SemVer maximum', async () => {
    const all = (await get('/api/models')).json() as Array<{ id: string }>;
    expect(all.map((m) => m.id)).toEqual(['whisper']);
    const model = (await get('/api/models/whisper')).json();
    expect(model).toMatchObject({
      id: 'whisper',
      name: 'Whisper',
      task: 'asr',
      languages: ['en', 'zh'],
      default_version: '1.10.0',
      versions: [
        { version: '1.10.0', size_bytes: 19, files: [{ path: 'a.bin', size_bytes: 14 }, { path: 'sub/b.txt', size_bytes: 5 }] },
        { version: '1.9.0', checksum_sha256: '{}' },
      ],
    });
    expect(JSON.parse((model as { versions: Array<{ checksum_sha256: string }> }).versions[0]?.checksum_sha256 ?? '')).toHaveProperty('a.bin');
    expect((await get('/api/models/nope')).json()).toEqual({ detail: 'Model not found' });
  });

  it('serves files with Range, refuses unsafe paths (400) and names missing files (404)', async () => {
    const file = await get('/storage/models/whisper/1.10.0/sub/b.txt');
    expect([file.status, file.headers['content-type'], file.body.toString()]).toEqual([200, 'application/octet-stream', 'vocab']);
    const part = await get('/storage/models/whisper/1.10.0/a.bin', { range: 'bytes=-4' });
    expect([part.status, part.body.toString()]).toEqual([206, '10.0']);
    expect((await get('/storage/models/whisper/1.10.0/checksum.sha256')).status).toBe(200);
    expect((await get('/storage/models/whisper/1.9.0/checksum.sha256')).json()).toEqual({ detail: 'File not found' });
    // A raw client: a URL parser would resolve the dot segments before they reach the hub.
    const raw = new Client(hub.url);
    try {
      for (const path of ['/storage/models/whisper/1.10.0/sub/../../1.9.0/a.bin', '/storage/models/whisper/1.10.0/%2E%2E/1.9.0/a.bin', '/storage/models/whisper/1.10.0/sub%2F..%2F..%2F1.9.0%2Fa.bin', '/storage/models/whisper/1.10.0/%2Fetc%2Fpasswd']) {
        const refused = await raw.request({ method: 'GET', path });
        expect([path, refused.statusCode, await refused.body.json()]).toEqual([path, 400, { detail: 'Invalid file path' }]);
      }
    } finally {
      await raw.close();
    }
    expect((await stat(join(storage, 'models', 'whisper', '1.9.0', 'a.bin'))).isFile()).toBe(true);
  });
});
