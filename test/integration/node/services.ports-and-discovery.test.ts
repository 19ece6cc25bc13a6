import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, bootServices, installService, pumpUntil, serviceJson, settle, TEST_SERVICE_SCRIPT } from '../../support/hotplug-harness.js';
import type { Harness } from '../../support/hotplug-harness.js';

let h: Harness | undefined;
const servers: Server[] = [];
afterEach(async () => {
  const lagged = h?.registryLagged ?? [];
  await h?.stop();
  h = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  expect(lagged).toEqual([]);
});

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, host, () => {
      servers.push(server);
      resolve(server);
    });
  });
}

const portOf = (h: Harness, id: string) => Number(new URL(h.runtime.registry.get(id)!.baseUrl!).port);
const never = () => new AbortController().signal;

describe('services: ports (PROTOCOL.md §9.8)', () => {
  it('§12 item 40: service.json port 5009 → PORT=5009; while 5009 is taken → another, free PORT', async () => {
    h = await bootServices([{ id: 'tts-es', port: 5009 }]);
    await h.waitState('tts-es', 'running');
    expect((await h.info('tts-es')).env.PORT).toBe('5009');
    await settle(h.clock, h.runtime.control.stop('tts-es', never()));
    await listen(5009);
    await settle(h.clock, h.runtime.control.start('tts-es', never()));
    const moved = await h.info('tts-es');
    expect(moved.env.PORT).not.toBe('5009');
    expect(moved.env.SERVICE_PORT).toBe(moved.env.PORT);
    expect(portOf(h, 'tts-es')).toBe(Number(moved.env.PORT));
  });

  it('a port held on 0.0.0.0 by another process counts as taken; two services declaring one port never share it', async () => {
    const holder = await listen(0, '0.0.0.0');
    const held = (holder.address() as { port: number }).port;
    const free = await listen(0);
    const shared = (free.address() as { port: number }).port;
    await new Promise((r) => free.close(r));
    h = await bootServices([
      { id: 'a-held', port: held },
      { id: 'b-shared', port: shared },
      { id: 'c-shared', port: shared },
    ]);
    for (const id of ['a-held', 'b-shared', 'c-shared']) await h.waitState(id, 'running');
    expect(portOf(h, 'a-held')).not.toBe(held);
    const ports = ['b-shared', 'c-shared'].map((id) => portOf(h!, id));
    expect(new Set(ports).size).toBe(2);
    expect(ports).toContain(shared);
  });

  it("the operator's port override wins over service.json", async () => {
    const probe = await listen(0);
    const wanted = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    h = await bootServices([{ id: 'asr-x', type: 'asr', port: 5999 }], { portOverrides: { 'asr-x': wanted } });
    await h.waitState('asr-x', 'running');
    expect((await h.info('asr-x')).env.PORT).toBe(String(wanted));
  });
});

describe('services: discovery and hot-plug', () => {
  it('an invalid service.json is listed as error with the validation message; the others are unaffected', async () => {
    h = await bootServices([
      { id: 'good', env: {} },
      { id: 'no-exec', raw: { id: 'no-exec', name: 'x', type: 'asr' } },
      { id: 'wrong-id', raw: { ...(serviceJson({ id: 'other-id' }) as object) } },
    ]);
    const broken = join(h.dataDir, 'services', 'not-json', '1.0.0');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'service.json'), '{ nope');
    await h.runtime.rescan();
    await h.waitState('good', 'running');
    const byId = Object.fromEntries(h.runtime.registry.list().map((s) => [s.id, s]));
    expect(byId['no-exec']).toMatchObject({ state: 'error', type: 'asr', lastError: expect.stringContaining('exec: required (or startup_command)') });
    expect(byId['wrong-id']).toMatchObject({ state: 'error', lastError: expect.stringContaining('does not match its directory services/wrong-id') });
    expect(byId['not-json']).toMatchObject({ state: 'error', lastError: expect.stringContaining('service.json is not JSON') });
    await expect(h.runtime.control.start('no-exec', never())).rejects.toMatchObject({ code: 'INVALID_SERVICE_JSON' });
    expect(h.events.find((e) => e.serviceId === 'not-json')).toMatchObject({ state: 'error', wireStatus: 'error' });
    expect(byId.good!.state).toBe('running');
  });

  it('health bodies of §9.1: Healthy (any case), plain OK and JSON without status are ready; 503 with status ok is not', async () => {
    h = await bootServices([
      { id: 'h-healthy', env: { TEST_HEALTH: 'healthy' } },
      { id: 'h-plain', env: { TEST_HEALTH: 'plain' } },
      { id: 'h-nostatus', env: { TEST_HEALTH: 'nostatus' } },
      { id: 'h-503', env: { TEST_HEALTH: 'http503' }, startupTimeoutMs: 60_000 },
    ]);
    for (const id of ['h-healthy', 'h-plain', 'h-nostatus']) await h.waitState(id, 'running');
    await pumpUntil(h.clock, () => h!.logLines.some((l) => l.serviceId === 'h-503' && String(l.line).startsWith('test service listening')), 'h-503 listening');
    // Twenty real probes answered 503 {"status":"ok"}: still not running.
    let periods = 0;
    await pumpUntil(h.clock, () => periods++ >= 20, 'twenty probe periods', { stepMs: 100 });
    expect(h.state('h-503')).toBe('starting');
    await h.clock.advanceAsync(60_000);
    await h.waitState('h-503', 'error');
    expect(h.runtime.registry.get('h-503')!.lastError).toMatch(/^not ready within 60000 ms/);
    expect(h.statesOf('h-503')).not.toContain('running');
  });

  it('the [SERVICE_READY] line makes a service running without waiting for the poll; its health languages replace the declared ones', async () => {
    h = await bootServices([
      { id: 'nmt-line', type: 'nmt', healthIntervalMs: 600_000, env: { TEST_READY_LINE: 1, TEST_LANGUAGES: JSON.stringify({ nmt: [{ src: 'en', tgt: 'de' }] }) } },
      { id: 'tts-hint', healthIntervalMs: 600_000, env: { TEST_READY_LINE: 'embedded' } },
    ]);
    await pumpUntil(h.clock, () => h!.state('nmt-line') === 'running' && h!.state('tts-hint') === 'running', 'ready lines', { stepMs: 0 });
    await pumpUntil(h.clock, () => h!.runtime.registry.get('nmt-line')!.languages.nmtPairs.length > 0, 'languages', { stepMs: 0 });
    expect(h.runtime.registry.get('nmt-line')!.languages.nmtPairs).toEqual([{ src: 'en', tgt: 'de' }]);
    expect(h.events.filter((e) => e.serviceId === 'nmt-line').at(-1)).toMatchObject({ state: 'running', reason: 'languages changed' });
  });

  it('rescan hot-plugs a new service, switches a version (old process replaced) and removes a deleted one', async () => {
    h = await bootServices([{ id: 'tts-es', version: '1.0.0' }, { id: 'asr-old', type: 'asr' }]);
    await h.waitState('tts-es', 'running');
    await h.waitState('asr-old', 'running');
    const oldTts = h.runtime.registry.get('tts-es')!.pid!;
    const oldAsr = h.runtime.registry.get('asr-old')!.pid!;

    installService(h.dataDir, { id: 'nmt-new', type: 'nmt' });
    expect(await h.runtime.rescan()).toEqual({ added: ['nmt-new'], removed: [], changed: [] });
    await h.waitState('nmt-new', 'running');

    // A package installer unpacks 2.0.0 next to 1.0.0, then switches `current`.
    const v2 = join(h.dataDir, 'services', 'tts-es', '2.0.0');
    mkdirSync(v2, { recursive: true });
    writeFileSync(join(v2, 'service.json'), JSON.stringify(serviceJson({ id: 'tts-es', version: '2.0.0' })));
    await settle(h.clock, h.runtime.manager.switchVersion('tts-es', '2.0.0'));
    expect(readlinkSync(join(h.dataDir, 'services', 'tts-es', 'current'))).toBe('2.0.0');
    await h.waitState('tts-es', 'running');
    expect(alive(oldTts)).toBe(false);
    expect(h.runtime.registry.get('tts-es')).toMatchObject({ version: '2.0.0', dir: v2 });
    expect((await h.info('tts-es')).env.SERVICE_VERSION).toBe('2.0.0');

    rmSync(join(h.dataDir, 'services', 'asr-old'), { recursive: true });
    expect(await settle(h.clock, h.runtime.rescan())).toEqual({ added: [], removed: ['asr-old'], changed: [] });
    expect(h.runtime.registry.get('asr-old')).toBeUndefined();
    expect(alive(oldAsr)).toBe(false);
    expect(h.events.at(-1)).toMatchObject({ serviceId: 'asr-old', state: 'stopped', wireStatus: 'stopped', reason: 'removed' });
    expect(h.runtime.registry.list().map((s) => s.id)).toEqual(['tts-es', 'nmt-new']);
  });

  it('extra service directories (development), a current.json pointer, and removal at run time', async () => {
    // test/fixtures/services is itself a service directory: service.json with a relative script path.
    const extra = dirname(TEST_SERVICE_SCRIPT);
    const dataDir = mkdtempSync(join(tmpdir(), 'lm-hotplug-'));
    const pointed = join(dataDir, 'services', 'tts-json', '3.1.0');
    mkdirSync(pointed, { recursive: true });
    writeFileSync(join(pointed, 'service.json'), JSON.stringify(serviceJson({ id: 'tts-json', version: '3.1.0' })));
    writeFileSync(join(dataDir, 'services', 'tts-json', 'current.json'), JSON.stringify({ version: '3.1.0' }));
    h = await bootServices([], { dataDir });
    expect(h.runtime.registry.list().map((s) => [s.id, s.version])).toEqual([['tts-json', '3.1.0']]);
    expect(await h.runtime.manager.addServiceDir(extra)).toEqual({ added: ['test-service'], removed: [], changed: [] });
    await h.waitState('test-service', 'running');
    await h.waitState('tts-json', 'running');
    expect((await h.info('test-service')).cwd).toBe(extra);
    const pid = h.runtime.registry.get('test-service')!.pid!;
    await settle(h.clock, h.runtime.manager.removeService('test-service'));
    expect(alive(pid)).toBe(false);
    expect(h.runtime.registry.get('test-service')).toBeUndefined();
    expect((await h.runtime.rescan()).added).toEqual([]);
  });

  it('enabled/disabled survives a node restart (persisted atomically in the data dir)', async () => {
    h = await bootServices([{ id: 'tts-a' }, { id: 'tts-b' }]);
    await h.waitState('tts-a', 'running');
    const disabled = await settle(h.clock, h.runtime.control.setEnabled('tts-b', false, never()));
    expect(disabled).toMatchObject({ state: 'stopped', enabled: false });
    expect(JSON.parse(readFileSync(join(h.dataDir, 'services-state.json'), 'utf8'))).toEqual({ enabled: { 'tts-b': false } });
    const dataDir = h.dataDir;
    await h.stop();

    h = await bootServices([], { dataDir });
    await h.waitState('tts-a', 'running');
    await h.clock.advanceAsync(5_000);
    expect(h.runtime.registry.get('tts-b')).toMatchObject({ state: 'stopped', enabled: false });
    expect(h.statesOf('tts-b')).toEqual([]);
    const enabled = await settle(h.clock, h.runtime.control.setEnabled('tts-b', true, never()));
    expect(enabled).toMatchObject({ state: 'running', enabled: true });
  });
});
