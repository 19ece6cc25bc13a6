/**
 * `startAll` when it cannot finish starting: whatever it had started is stopped, in order, and
 * `ready` rejects with the cause. Real listeners on loopback; no service is built in either case
 * (both stop before the reference packages are published).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAll } from '../../../src/cli/start-all.js';
import type { StartAllProgress } from '../../../src/cli/start-all.js';
import { GPU_BOX_PROBE, FakeHardware } from '../../fakes/hardware.fake.js';

let tmp: string;
let taken: Server;
let takenPort: number;

/** Whether something accepts connections at `url` (an HTTP request gets any answer). */
async function listening(url: string): Promise<boolean> {
  return fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'lm-start-all-'));
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => taken.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('startAll that cannot finish starting', () => {
  it('the scheduler port is in use: ready rejects with PORT_IN_USE, the hub it had started is stopped, status says failed', async () => {
    const events: StartAllProgress[] = [];
    const all = startAll({ dataDir: join(tmp, 'a'), schedulerPort: takenPort, hardware: new FakeHardware(), onProgress: (e) => events.push(e) });
    await expect(all.ready).rejects.toMatchObject({ code: 'PORT_IN_USE' });
    const hubUrl = events.find((e) => e.kind === 'started' && e.role === 'hub');
    expect(hubUrl).toBeDefined();
    expect(await listening((hubUrl as { url: string }).url)).toBe(false);
    expect(events.some((e) => e.kind === 'publish')).toBe(false);
    expect(await all.status()).toMatchObject({ state: 'failed', cpuNodesAllowed: false });
    expect(() => all.urls).toThrow(/not ready/);
    await expect(all.done).resolves.toEqual({ reason: 'stopped' });
    await all.stop();
    expect((await all.status()).state).toBe('stopped');
  });

  it('stop() while starting: the start is cancelled before publishing, hub and scheduler stop, ready rejects with ABORTED', async () => {
    const events: StartAllProgress[] = [];
    let stopped: Promise<void> | undefined;
    const all = startAll({
      dataDir: join(tmp, 'b'),
      hardware: new FakeHardware({ ...GPU_BOX_PROBE, hardware: { ...GPU_BOX_PROBE.hardware, gpus: [] } }),
      onProgress: (e) => {
        events.push(e);
        if (e.kind === 'started' && e.role === 'scheduler') stopped = all.stop();
      },
    });
    await expect(all.ready).rejects.toMatchObject({ code: 'ABORTED' });
    await stopped;
    const urls = events.flatMap((e) => (e.kind === 'started' ? [e.url] : []));
    expect(urls).toHaveLength(2);
    for (const url of urls) expect(await listening(url)).toBe(false);
    expect(events.some((e) => e.kind === 'publish')).toBe(false);
    expect(await all.status()).toMatchObject({ state: 'stopped', cpuNodesAllowed: true });
    await expect(all.done).resolves.toEqual({ reason: 'stopped' });
  });

  it('a role that stops on its own takes the others down: done names it, ready rejects, nothing listens', async () => {
    const events: StartAllProgress[] = [];
    const all = startAll({
      dataDir: join(tmp, 'c'),
      hardware: new FakeHardware(),
      onProgress: (e) => {
        events.push(e);
        // The hub ends behind startAll's back, as a tree past its restart intensity would.
        if (e.kind === 'started' && e.role === 'scheduler') void all.hub?.stop();
      },
    });
    await expect(all.done).resolves.toEqual({ reason: 'role_ended', role: 'hub', exit: { reason: 'shutdown' } });
    await expect(all.ready).rejects.toMatchObject({ code: 'ABORTED' });
    const urls = events.flatMap((e) => (e.kind === 'started' ? [e.url] : []));
    expect(urls).toHaveLength(2);
    for (const url of urls) expect(await listening(url)).toBe(false);
    expect(await all.status()).toMatchObject({ state: 'stopped' });
  });
});
