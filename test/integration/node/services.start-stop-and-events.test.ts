import { afterEach, describe, expect, it } from 'vitest';
import { alive, bootServices, pumpUntil, settle } from '../../support/hotplug-harness.js';
import type { Harness } from '../../support/hotplug-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  const lagged = h?.registryLagged ?? [];
  await h?.stop();
  h = undefined;
  expect(lagged).toEqual([]);
});

describe('services with real processes: start, stop and status events', () => {
  it('an enabled service starts at boot: starting → running, with the §9.8 environment and the output logged', async () => {
    h = await bootServices([{ id: 'tts-es' }]);
    await h.waitState('tts-es', 'running');
    const snapshot = h.runtime.registry.get('tts-es')!;
    expect(snapshot).toMatchObject({ id: 'tts-es', type: 'tts', version: '1.0.0', state: 'running', enabled: true, languages: { tts: ['es'] } });
    expect(snapshot.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(snapshot.warmupMs).toBeGreaterThanOrEqual(0);
    const info = await h.info('tts-es');
    const port = new URL(snapshot.baseUrl!).port;
    expect(info.pid).toBe(snapshot.pid);
    expect(info.env).toMatchObject({
      PORT: port,
      SERVICE_PORT: port,
      HOST: '127.0.0.1',
      SERVICE_ID: 'tts-es',
      SERVICE_VERSION: '1.0.0',
      MODELS_DIR: `${h.runtime.registry.get('tts-es')!.dir}/models`,
      FIXTURE_FROM_SERVICE_JSON: 'yes',
    });
    expect(info.cwd).toBe(snapshot.dir);
    // Every change is on the bus, with the wire status of §3.3: starting is reported `stopped`.
    expect(h.events.filter((e) => e.serviceId === 'tts-es').map((e) => [e.state, e.wireStatus])).toEqual([
      ['starting', 'stopped'],
      ['running', 'running'],
    ]);
    expect(h.events[0]).toMatchObject({ type: 'service.statusChanged', serviceType: 'tts' });
    // stdout goes to the node's logger, line by line, with the service id.
    expect(h.logLines.some((l) => l.serviceId === 'tts-es' && l.stream === 'stdout' && String(l.line).startsWith('test service listening on'))).toBe(true);
  });

  it('stop → SIGTERM → stopped, the process is gone; start → running again on a new process', async () => {
    h = await bootServices([{ id: 'asr-a', type: 'asr' }]);
    await h.waitState('asr-a', 'running');
    const first = h.runtime.registry.get('asr-a')!.pid!;
    const stopped = await settle(h.clock, h.runtime.control.stop('asr-a', new AbortController().signal));
    expect(stopped).toMatchObject({ state: 'stopped' });
    expect(stopped.pid).toBeUndefined();
    expect(stopped.baseUrl).toBeUndefined();
    expect(alive(first)).toBe(false);
    expect(h.statesOf('asr-a')).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(h.events.filter((e) => e.serviceId === 'asr-a').map((e) => e.wireStatus)).toEqual(['stopped', 'running', 'stopped', 'stopped']);
    const started = await settle(h.clock, h.runtime.control.start('asr-a', new AbortController().signal));
    expect(started.state).toBe('running');
    expect(started.pid).not.toBe(first);
    expect(alive(started.pid!)).toBe(true);
  });

  it('restart replaces the process; a second start of a running service is a no-op', async () => {
    h = await bootServices([{ id: 'nmt-a', type: 'nmt' }]);
    await h.waitState('nmt-a', 'running');
    const before = h.runtime.registry.get('nmt-a')!.pid!;
    const again = await settle(h.clock, h.runtime.control.start('nmt-a', new AbortController().signal));
    expect(again.pid).toBe(before);
    const restarted = await settle(h.clock, h.runtime.control.restart('nmt-a', new AbortController().signal));
    expect(restarted.state).toBe('running');
    expect(restarted.pid).not.toBe(before);
    expect(alive(before)).toBe(false);
    expect(h.statesOf('nmt-a')).toEqual(['starting', 'running', 'stopping', 'starting', 'running']);
  });

  it('node shutdown stops every service in reverse start order and ends each actor', async () => {
    h = await bootServices([{ id: 'a-first' }, { id: 'b-second' }, { id: 'c-third' }]);
    for (const id of ['a-first', 'b-second', 'c-third']) await h.waitState(id, 'running');
    const pids = ['a-first', 'b-second', 'c-third'].map((id) => h!.runtime.registry.get(id)!.pid!);
    const stopping: string[] = [];
    const seen = h.events.length;
    await settle(h.clock, h.system.stop(), 'shutdown');
    for (const e of h.events.slice(seen)) if (e.state === 'stopping') stopping.push(e.serviceId);
    expect(stopping).toEqual(['c-third', 'b-second', 'a-first']);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(h.runtime.registry.list().map((s) => s.state)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('ensureRunning starts a stopped enabled service on demand and refuses a disabled one', async () => {
    h = await bootServices([{ id: 'tts-lazy', enabled: false }]);
    await pumpUntil(h.clock, () => h!.runtime.registry.get('tts-lazy') !== undefined);
    await h.clock.advanceAsync(1_000);
    expect(h.state('tts-lazy')).toBe('stopped');
    await expect(h.runtime.control.ensureRunning('tts-lazy', new AbortController().signal)).rejects.toMatchObject({ code: 'SERVICE_DISABLED' });
    await settle(h.clock, h.runtime.control.setEnabled('tts-lazy', true, new AbortController().signal));
    expect(h.state('tts-lazy')).toBe('running');
    await settle(h.clock, h.runtime.control.stop('tts-lazy', new AbortController().signal));
    expect(h.runtime.registry.get('tts-lazy')).toMatchObject({ state: 'stopped', enabled: true });
    const ensured = await settle(h.clock, h.runtime.control.ensureRunning('tts-lazy', new AbortController().signal));
    expect(ensured.state).toBe('running');
    // Already running: answered at once.
    expect((await h.runtime.control.ensureRunning('tts-lazy', new AbortController().signal)).pid).toBe(ensured.pid);
    await expect(h.runtime.control.ensureRunning('nope', new AbortController().signal)).rejects.toMatchObject({ code: 'SERVICE_NOT_FOUND' });
  });
});
