/**
 * `buildServiceDirectory` turns a service's source into a directory that runs on its own: bundles
 * (`server.mjs` and one `*.worker.mjs` per worker entry), `service.json`, and the native npm
 * packages the bundles import, copied with their platform binaries and pruned of the rest.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServiceDirectory } from '../../../src/adapters/service-bundle.adapter.js';
import { SERVICES_SOURCE_DIR } from '../../support/service-process.js';

const out = mkdtempSync(join(tmpdir(), 'linguamesh-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('buildServiceDirectory', () => {
  it('bundles asr-pocketsphinx with its worker and copies koffi and @evan/opus for this platform only', async () => {
    const bundle = await buildServiceDirectory(join(SERVICES_SOURCE_DIR, 'asr-pocketsphinx'), join(out, 'asr'));
    expect(bundle.entry).toBe(join(out, 'asr', 'server.mjs'));
    expect(bundle.workers).toEqual([join(out, 'asr', 'pocketsphinx.worker.mjs')]);
    expect(bundle.packages).toEqual(['@evan/opus', `@koromix/koffi-${process.platform}-${process.arch}`, 'koffi']);
    const files = filesUnder(bundle.outDir);
    expect(files).toEqual(expect.arrayContaining(['server.mjs', 'pocketsphinx.worker.mjs', 'service.json', 'node_modules/koffi/package.json']));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /\.(cc|hh)$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('node_modules/@evan/opus/node/') && f.endsWith('.node'))).toEqual([
      `node_modules/@evan/opus/node/${process.arch}-${process.platform}.node`,
    ]);
  });

  it('copies no packages for a service that imports none', async () => {
    const bundle = await buildServiceDirectory(join(SERVICES_SOURCE_DIR, 'mt-apertium'), join(out, 'mt'));
    expect(bundle.packages).toEqual([]);
    expect(bundle.workers).toEqual([]);
    expect(existsSync(join(bundle.outDir, 'node_modules'))).toBe(false);
    expect(filesUnder(bundle.outDir).sort()).toEqual(['server.mjs', 'service.json']);
  });

  it('rejects a directory without server.ts with SERVICE_BUILD_FAILED', async () => {
    await expect(buildServiceDirectory(join(SERVICES_SOURCE_DIR, 'shared'), join(out, 'shared'))).rejects.toMatchObject({ code: 'SERVICE_BUILD_FAILED' });
  });
});
