import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServiceDirectoryAdapter } from '../../../src/adapters/service-directory.adapter.js';
import { createStateFileAdapter } from '../../../src/adapters/state-file.adapter.js';
import type { DiscoveredService } from '../../../src/kernel/ports/service-directory.port.js';

const never = () => new AbortController().signal;
const doc = (id: string, version?: string) => JSON.stringify({ id, name: id, type: 'asr', ...(version ? { version } : {}), exec: { command: 'node', args: ['s.js'] } });

function put(root: string, path: string, content: string) {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
}

const summary = (found: DiscoveredService[]) => found.map((f) => [f.id, f.source, f.version ?? null, f.result.ok ? 'ok' : f.result.error]);

describe('service directory adapter (PROTOCOL.md §10.9 step 6)', () => {
  it('reads the current link, current.json, the highest version without a pointer, the flat layout, and extra directories', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lm-dir-'));
    put(root, 'by-link/1.0.0/service.json', doc('by-link', '1.0.0'));
    put(root, 'by-link/2.0.0/service.json', doc('by-link', '2.0.0'));
    symlinkSync('1.0.0', join(root, 'by-link', 'current'));
    put(root, 'by-file/0.9.0/service.json', doc('by-file', '0.9.0'));
    put(root, 'by-file/current.json', JSON.stringify({ version: '0.9.0' }));
    put(root, 'no-pointer/1.9.0/service.json', doc('no-pointer', '1.9.0'));
    put(root, 'no-pointer/1.10.0/service.json', doc('no-pointer', '1.10.0'));
    put(root, 'flat/service.json', doc('flat'));
    put(root, 'mismatch/1.0.0/service.json', doc('mismatch', '1.0.1'));
    symlinkSync('1.0.0', join(root, 'mismatch', 'current'));
    mkdirSync(join(root, 'empty'));
    mkdirSync(join(root, '.staging-abc'));
    const extra = mkdtempSync(join(tmpdir(), 'lm-extra-'));
    writeFileSync(join(extra, 'service.json'), doc('dev-one'));
    const adapter = createServiceDirectoryAdapter({ stateFiles: createStateFileAdapter() });
    const found = await adapter.scan({ servicesRoot: root, extraDirs: [extra, join(extra, 'missing')] }, never());
    expect(summary(found)).toEqual([
      ['by-file', 'installed', '0.9.0', 'ok'],
      ['by-link', 'installed', '1.0.0', 'ok'],
      ['empty', 'installed', null, 'no current version (no current link, no current.json, no version directory)'],
      ['flat', 'installed', null, 'ok'],
      ['mismatch', 'installed', '1.0.0', 'service.json version "1.0.1" does not match its directory 1.0.0'],
      ['no-pointer', 'installed', '1.10.0', 'ok'],
      ['dev-one', 'extra', null, 'ok'],
      ['missing', 'extra', null, expect.stringMatching(/^cannot read service\.json/)],
    ]);
    expect(found.find((f) => f.id === 'by-link')!.dir).toBe(join(root, 'by-link', '1.0.0'));
    expect(await adapter.scan({ servicesRoot: join(root, 'absent'), extraDirs: [] }, never())).toEqual([]);
  });

  it('setCurrent replaces the link atomically and refuses a version that is not there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lm-dir-'));
    put(root, 'a/1.0.0/service.json', doc('a', '1.0.0'));
    put(root, 'a/2.0.0/service.json', doc('a', '2.0.0'));
    put(root, 'a/current.json', JSON.stringify({ version: '1.0.0' }));
    const adapter = createServiceDirectoryAdapter({ stateFiles: createStateFileAdapter() });
    await adapter.setCurrent(root, 'a', '2.0.0', never());
    expect(lstatSync(join(root, 'a', 'current')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'a', 'current'))).toBe('2.0.0');
    expect(() => readFileSync(join(root, 'a', 'current.json'))).toThrow();
    await adapter.setCurrent(root, 'a', '1.0.0', never());
    expect(readlinkSync(join(root, 'a', 'current'))).toBe('1.0.0');
    await expect(adapter.setCurrent(root, 'a', '3.0.0', never())).rejects.toMatchObject({ code: 'SERVICE_VERSION_NOT_FOUND' });
    expect(summary(await adapter.scan({ servicesRoot: root, extraDirs: [] }, never()))).toEqual([['a', 'installed', '1.0.0', 'ok']]);
  });
});

describe('state file adapter', () => {
  it('writes atomically (no temporary file left), reads back, and answers undefined for an absent document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lm-state-'));
    const files = createStateFileAdapter();
    const path = join(dir, 'nested', 'state.json');
    expect(await files.read(path, never())).toBeUndefined();
    await Promise.all([1, 2, 3].map((n) => files.write(path, { n }, { mode: n === 2 ? 'durable' : 'atomic' }, never())));
    expect(await files.read(path, never())).toEqual({ n: 3 });
    writeFileSync(join(dir, 'bad.json'), '{');
    await expect(files.read(join(dir, 'bad.json'), never())).rejects.toMatchObject({ code: 'STATE_FILE_UNREADABLE' });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json']);
  });
});
