/**
 * A running service switched to a new version with no gap (issue "Model hub and service packages",
 * PROTOCOL.md §10.9 step 7), with real service processes under the real services runtime on a fake
 * clock. A poller reads the service's address from the registry and asks its `/health` every ~20 ms
 * (real time) during each switch: it must never fail. A new version that crashes at start, never
 * turns healthy, or whose switch is aborted, is stopped while the old one keeps serving.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, bootServices, installService, pumpUntil, serviceJson, settle } from '../../support/hotplug-harness.js';
import type { Harness, ServiceVariant } from '../../support/hotplug-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  const lagged = h?.registryLagged ?? [];
  await h?.stop();
  h = undefined;
  expect(lagged).toEqual([]);
});

const never = () => new AbortController().signal;

/** Unpacks `<id>/<version>/` next to the running one and points `current` at it, as the package store does. */
function makeCurrent(dataDir: string, variant: ServiceVariant & { version: string }): void {
  const base = join(dataDir, 'services', variant.id);
  mkdirSync(join(base, variant.version), { recursive: true });
  writeFileSync(join(base, variant.version, 'service.json'), JSON.stringify(serviceJson(variant)));
  const tmp = join(base, `.current.tmp-${variant.version}`);
  symlinkSync(variant.version, tmp);
  renameSync(tmp, join(base, 'current'));
}

interface Poll {
  ok: number;
  failures: string[];
  /** Addresses that answered, in the order first seen. */
  baseUrls: string[];
  /** Registry states seen. */
  states: Set<string>;
}

/** Asks the registry's current address for `/health` every ~20 ms of real time until stopped. */
function pollHealth(harness: Harness, id: string): { poll: Poll; stop(): Promise<Poll> } {
  const poll: Poll = { ok: 0, failures: [], baseUrls: [], states: new Set() };
  let running = true;
  const loop = (async () => {
    while (running) {
      const snapshot = harness.runtime.registry.get(id);
      poll.states.add(snapshot?.state ?? 'absent');
      const baseUrl = snapshot?.baseUrl;
      if (baseUrl === undefined) poll.failures.push('no address in the registry');
      else {
        try {
          const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
          const body = (await res.json()) as { status?: string };
          if (res.status === 200 && body.status === 'ok') {
            poll.ok += 1;
            if (!poll.baseUrls.includes(baseUrl)) poll.baseUrls.push(baseUrl);
          } else poll.failures.push(`${baseUrl}: ${res.status} ${JSON.stringify(body)}`);
        } catch (err) {
          poll.failures.push(`${baseUrl}: ${String(err)}`);
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    poll,
    stop: async () => {
      running = false;
      await loop;
      return poll;
    },
  };
}

/** Pids of the processes a version was started as, from the service actors' log lines. */
function pidsOfVersion(harness: Harness, version: string): number[] {
  return harness.logLines.filter((l) => l.msg === 'service process started' && l.version === version).map((l) => l.pid as number);
}

const eventsSince = (harness: Harness, index: number, id: string) =>
  harness.events.slice(index).filter((e) => e.serviceId === id).map((e) => ({ state: e.state, ...(e.reason !== undefined ? { reason: e.reason } : {}) }));

async function runningV1(variant: ServiceVariant = { id: 'tts-es', version: '1.0.0' }) {
  h = await bootServices([variant], { switchDrainMs: 500 });
  await h.waitState(variant.id, 'running');
  return h.runtime.registry.get(variant.id)!;
}

describe('switching a running service to a new version', () => {
  it('starts the new version next to the old one, points the registry at it once healthy, then stops the old one: /health never fails', async () => {
    const v1 = await runningV1();
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '2.0.0', env: { TEST_START_DELAY_MS: 300, TEST_NOT_READY_MS: 200 } });
    const from = h!.events.length;
    const oldAliveAtSwitch: boolean[] = [];
    const unsubscribe = h!.bus.subscribe('service.statusChanged', (e) => {
      if (e.reason === 'version switched') oldAliveAtSwitch.push(alive(v1.pid!));
    });
    const poller = pollHealth(h!, 'tts-es');
    const snapshot = await settle(h!.clock, h!.runtime.manager.activate('tts-es', '2.0.0', never()), 'activate 2.0.0');
    const poll = await poller.stop();
    unsubscribe();

    expect(poll.failures).toEqual([]);
    expect(poll.states).toEqual(new Set(['running']));
    expect(poll.baseUrls).toEqual([v1.baseUrl, snapshot.baseUrl]);
    expect(snapshot).toMatchObject({ id: 'tts-es', version: '2.0.0', state: 'running', dir: join(h!.dataDir, 'services', 'tts-es', '2.0.0') });
    expect(snapshot.baseUrl).not.toBe(v1.baseUrl);
    // Side by side at the switch; the old one stopped by the time activate resolved.
    expect(oldAliveAtSwitch).toEqual([true]);
    expect(alive(v1.pid!)).toBe(false);
    expect((await h!.info('tts-es')).env.SERVICE_VERSION).toBe('2.0.0');
    // One registry entry; the bus heard the service running all along, then running at 2.0.0.
    expect(h!.runtime.registry.list().map((s) => [s.id, s.version])).toEqual([['tts-es', '2.0.0']]);
    expect(eventsSince(h!, from, 'tts-es')).toEqual([{ state: 'running', reason: 'version switched' }]);

    // A rescan after a manual switch takes the same path.
    const v2 = h!.runtime.registry.get('tts-es')!;
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '3.0.0' });
    const again = pollHealth(h!, 'tts-es');
    expect(await settle(h!.clock, h!.runtime.rescan(), 'rescan')).toEqual({ added: [], removed: [], changed: ['tts-es'] });
    expect((await again.stop()).failures).toEqual([]);
    expect(h!.runtime.registry.get('tts-es')).toMatchObject({ version: '3.0.0', state: 'running' });
    expect(alive(v2.pid!)).toBe(false);
    expect(eventsSince(h!, from, 'tts-es')).toEqual([
      { state: 'running', reason: 'version switched' },
      { state: 'running', reason: 'version switched' },
    ]);
  });

  it('a new version that crashes at start is stopped at once; the old one serves throughout and activate rejects', async () => {
    const v1 = await runningV1();
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '2.0.0', env: { TEST_CRASH_ON_START: 3 } });
    const from = h!.events.length;
    const poller = pollHealth(h!, 'tts-es');
    await expect(settle(h!.clock, h!.runtime.manager.activate('tts-es', '2.0.0', never()), 'activate')).rejects.toMatchObject({ code: 'SERVICE_FAILED' });
    const poll = await poller.stop();
    expect(poll.failures).toEqual([]);
    expect(poll.baseUrls).toEqual([v1.baseUrl]);
    expect(h!.runtime.registry.get('tts-es')).toMatchObject({ version: '1.0.0', state: 'running', pid: v1.pid, baseUrl: v1.baseUrl });
    expect(eventsSince(h!, from, 'tts-es')).toEqual([]);
    expect(pidsOfVersion(h!, '2.0.0').length).toBeGreaterThan(0);
    expect(pidsOfVersion(h!, '2.0.0').filter(alive)).toEqual([]);
    // Not restarted in the background: still nothing of 2.0.0 after its backoff would have passed.
    await h!.clock.advanceAsync(5_000);
    expect(pidsOfVersion(h!, '2.0.0').filter(alive)).toEqual([]);
    // Pointed back (a rollback), the old version is already the running one.
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '1.0.0' });
    await expect(settle(h!.clock, h!.runtime.manager.activate('tts-es', '1.0.0', never()))).resolves.toMatchObject({ pid: v1.pid });
  });

  it('a new version that never turns healthy is stopped after its startup timeout; the old one serves throughout', async () => {
    const v1 = await runningV1();
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '2.0.0', env: { TEST_HEALTH: 'not_ready' }, startupTimeoutMs: 3_000 });
    const poller = pollHealth(h!, 'tts-es');
    const startedAt = h!.clock.now();
    await expect(settle(h!.clock, h!.runtime.manager.activate('tts-es', '2.0.0', never()), 'activate')).rejects.toMatchObject({
      code: 'SERVICE_FAILED',
      details: { lastError: expect.stringContaining('not ready within 3000 ms') },
    });
    expect(h!.clock.now() - startedAt).toBeGreaterThanOrEqual(3_000);
    const poll = await poller.stop();
    expect(poll.failures).toEqual([]);
    expect(poll.baseUrls).toEqual([v1.baseUrl]);
    expect(h!.runtime.registry.get('tts-es')).toMatchObject({ version: '1.0.0', state: 'running', pid: v1.pid });
    await pumpUntil(h!.clock, () => pidsOfVersion(h!, '2.0.0').filter(alive).length === 0, 'the 2.0.0 process gone', { stepMs: 0 });
  });

  it('an aborted switch (an activation timeout) stops the new version; the old one stays', async () => {
    const v1 = await runningV1();
    makeCurrent(h!.dataDir, { id: 'tts-es', version: '2.0.0', env: { TEST_HEALTH: 'not_ready' } });
    const abort = new AbortController();
    const activating = h!.runtime.manager.activate('tts-es', '2.0.0', abort.signal);
    activating.catch(() => undefined);
    await pumpUntil(h!.clock, () => pidsOfVersion(h!, '2.0.0').length > 0, '2.0.0 spawned');
    abort.abort();
    await expect(settle(h!.clock, activating)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pidsOfVersion(h!, '2.0.0').filter(alive)).toEqual([]);
    expect(h!.runtime.registry.get('tts-es')).toMatchObject({ version: '1.0.0', state: 'running', pid: v1.pid });
    expect(alive(v1.pid!)).toBe(true);
  });
});

describe('activation of installed versions', () => {
  it('adds and starts a new service, refuses a version current does not name, stops on deactivate, and forgets a removed one on refresh', async () => {
    h = await bootServices([]);
    installService(h.dataDir, { id: 'tts-new', version: '1.0.0' });
    const started = await settle(h.clock, h.runtime.manager.activate('tts-new', '1.0.0', never()), 'activate');
    expect(started).toMatchObject({ id: 'tts-new', version: '1.0.0', state: 'running' });
    expect(h.statesOf('tts-new')).toEqual(['stopped', 'starting', 'running']);

    await expect(h.runtime.manager.activate('tts-new', '9.9.9', never())).rejects.toMatchObject({ code: 'SERVICE_VERSION_NOT_CURRENT', details: { found: '1.0.0' } });
    await expect(h.runtime.manager.activate('tts-none', '1.0.0', never())).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });

    const pid = started.pid!;
    await settle(h.clock, h.runtime.manager.deactivate('tts-new', never()), 'deactivate');
    expect(h.state('tts-new')).toBe('stopped');
    expect(alive(pid)).toBe(false);
    await h.runtime.manager.deactivate('tts-unknown', never());

    // Activated again while stopped: started, no switch needed.
    await expect(settle(h.clock, h.runtime.manager.activate('tts-new', '1.0.0', never()))).resolves.toMatchObject({ state: 'running' });
    rmSync(join(h.dataDir, 'services', 'tts-new'), { recursive: true });
    await settle(h.clock, h.runtime.manager.refresh('tts-new'), 'refresh');
    expect(h.runtime.registry.get('tts-new')).toBeUndefined();
    expect(h.events.at(-1)).toMatchObject({ serviceId: 'tts-new', state: 'stopped', reason: 'removed' });
  });

  it('a disabled service is switched to the new version but not started; a first version that crashes rejects at once', async () => {
    h = await bootServices([{ id: 'tts-off', version: '1.0.0', enabled: false }]);
    makeCurrent(h.dataDir, { id: 'tts-off', version: '1.1.0', enabled: false });
    await expect(settle(h.clock, h.runtime.manager.activate('tts-off', '1.1.0', never()))).resolves.toMatchObject({ version: '1.1.0', state: 'stopped', enabled: false });

    installService(h.dataDir, { id: 'tts-bad', version: '1.0.0', env: { TEST_CRASH_ON_START: 2 } });
    await expect(settle(h.clock, h.runtime.manager.activate('tts-bad', '1.0.0', never()))).rejects.toMatchObject({ code: 'SERVICE_FAILED', details: { lastError: expect.stringContaining('exited with code 2') } });
    await settle(h.clock, h.runtime.manager.deactivate('tts-bad', never()));
    expect(h.state('tts-bad')).toBe('stopped');
  });
});
