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

const post = (url: string) => fetch(url, { method: 'POST' }).then((r) => r.json());

describe('services with real processes: failures', () => {
  it('a crash is detected at once (process exit) and the service is restarted after its backoff', async () => {
    h = await bootServices([{ id: 'tts-crashy' }], { minBackoffMs: 2_000 });
    await h.waitState('tts-crashy', 'running');
    const first = h.runtime.registry.get('tts-crashy')!;
    await post(`${first.baseUrl}/control/crash`);
    // No clock movement needed to notice the exit.
    await pumpUntil(h.clock, () => h!.state('tts-crashy') === 'backoff', 'backoff', { stepMs: 0 });
    expect(h.runtime.registry.get('tts-crashy')).toMatchObject({ state: 'backoff', lastError: 'exited with code 1' });
    expect(alive(first.pid!)).toBe(false);
    await h.clock.advanceAsync(1_999);
    expect(h.state('tts-crashy')).toBe('backoff');
    await h.waitState('tts-crashy', 'running');
    expect(h.runtime.registry.get('tts-crashy')!.pid).not.toBe(first.pid);
    expect(h.events.filter((e) => e.serviceId === 'tts-crashy').map((e) => [e.state, e.wireStatus])).toEqual([
      ['starting', 'stopped'],
      ['running', 'running'],
      ['failed', 'error'],
      ['backoff', 'error'],
      ['starting', 'stopped'],
      ['running', 'running'],
    ]);
    expect(h.events.find((e) => e.state === 'failed')?.reason).toBe('exited with code 1');
  });

  it('a crash loop ends in error after the restart intensity, with the reason, and nothing keeps running', async () => {
    h = await bootServices([{ id: 'asr-loop', type: 'asr', env: { TEST_CRASH_ON_START: 3 } }], { maxRestarts: 2, withinMs: 60_000, minBackoffMs: 100 });
    await h.waitState('asr-loop', 'error');
    const snapshot = h.runtime.registry.get('asr-loop')!;
    expect(snapshot.lastError).toBe('exited with code 3 before it was ready; gave up after 2 restarts within 60000 ms');
    expect(snapshot.pid).toBeUndefined();
    expect(h.statesOf('asr-loop').filter((s) => s === 'starting')).toHaveLength(3);
    await h.clock.advanceAsync(600_000);
    expect(h.statesOf('asr-loop').filter((s) => s === 'starting')).toHaveLength(3);
    expect(h.events.at(-1)).toMatchObject({ serviceId: 'asr-loop', state: 'error', wireStatus: 'error', reason: snapshot.lastError });
  });

  it('a hung process is found by the periodic health probe (3 failures in a row), killed and restarted', async () => {
    h = await bootServices([{ id: 'nmt-hang', type: 'nmt' }], { probeIntervalMs: 10_000 });
    await h.waitState('nmt-hang', 'running');
    const hung = h.runtime.registry.get('nmt-hang')!;
    await post(`${hung.baseUrl}/control/hang`);
    // The fixture blocks its event loop a few real ms after answering: wait until it really hangs,
    // or the first probe (fake time runs fast) could still pass.
    const hangsBy = Date.now() + 5_000;
    while (await fetch(`${hung.baseUrl}/health`, { signal: AbortSignal.timeout(200) }).then(() => true, () => false)) {
      if (Date.now() > hangsBy) throw new Error('the fixture did not hang');
    }
    // Probes every 10 s, each bounded by the 1 s timeout of the fixture's health_check.
    for (let i = 0; i < 2; i++) await h.clock.advanceAsync(11_000);
    expect(h.state('nmt-hang')).toBe('running');
    await h.clock.advanceAsync(11_000);
    await pumpUntil(h.clock, () => h!.state('nmt-hang') !== 'failed', 'kill of the hung process', { stepMs: 0 });
    expect(alive(hung.pid!)).toBe(false);
    expect(h.events.find((e) => e.serviceId === 'nmt-hang' && e.state === 'failed')?.reason).toBe('3 health checks failed in a row (last: timeout); killed');
    await h.waitState('nmt-hang', 'running');
    expect(h.runtime.registry.get('nmt-hang')!.pid).not.toBe(hung.pid);
  });

  it('a service that ignores SIGTERM is killed with SIGKILL once the stop timeout passes', async () => {
    h = await bootServices([{ id: 'tts-stubborn', env: { TEST_IGNORE_SIGTERM: 1 } }], { stopTimeoutMs: 3_000 });
    await h.waitState('tts-stubborn', 'running');
    const pid = h.runtime.registry.get('tts-stubborn')!.pid!;
    const stopping = h.runtime.control.stop('tts-stubborn', new AbortController().signal);
    await pumpUntil(h.clock, () => h!.logLines.some((l) => l.serviceId === 'tts-stubborn' && l.line === 'SIGTERM ignored'), 'SIGTERM delivery', { stepMs: 0 });
    await h.clock.advanceAsync(2_900);
    expect(alive(pid)).toBe(true);
    expect(h.state('tts-stubborn')).toBe('stopping');
    await h.clock.advanceAsync(100);
    const stopped = await settle(h.clock, stopping);
    expect(stopped.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
  });

  it('a grandchild dies with its service: on stop, and when the service crashes', async () => {
    h = await bootServices([{ id: 'asr-family', type: 'asr', env: { TEST_GRANDCHILD: 1 } }]);
    await h.waitState('asr-family', 'running');
    const first = await h.info('asr-family');
    expect(alive(first.grandchildPid!)).toBe(true);
    await settle(h.clock, h.runtime.control.stop('asr-family', new AbortController().signal));
    await pumpUntil(h.clock, () => !alive(first.grandchildPid!), 'grandchild gone after stop', { stepMs: 0, timeoutMs: 3_000 });
    await settle(h.clock, h.runtime.control.start('asr-family', new AbortController().signal));
    const second = await h.info('asr-family');
    await post(`http://127.0.0.1:${second.env.PORT}/control/crash`);
    await pumpUntil(h.clock, () => !alive(second.pid) && !alive(second.grandchildPid!), 'family gone after crash', { stepMs: 0, timeoutMs: 3_000 });
  });

  it('§12 item 40: health never ok within startup_timeout_ms → error, never running, its process stopped', async () => {
    h = await bootServices([{ id: 'tts-never', env: { TEST_HEALTH: 'not_ready' }, startupTimeoutMs: 30_000 }]);
    await pumpUntil(h.clock, () => h!.logLines.some((l) => l.serviceId === 'tts-never' && String(l.line).startsWith('test service listening')), 'listening');
    const info = await h.info('tts-never');
    await h.clock.advanceAsync(30_000);
    await h.waitState('tts-never', 'error');
    // The last check's reason depends on how fast fake time ran past the real probes (HTTP 503 or timeout).
    expect(h.runtime.registry.get('tts-never')!.lastError).toMatch(/^not ready within 30000 ms \(last health check: (HTTP 503|timeout)\)$/);
    expect(h.statesOf('tts-never')).not.toContain('running');
    expect(h.events.some((e) => e.serviceId === 'tts-never' && e.wireStatus === 'running')).toBe(false);
    await pumpUntil(h.clock, () => !alive(info.pid), 'process stopped', { stepMs: 0, timeoutMs: 3_000 });
    // A start that timed out is not retried by itself.
    await h.clock.advanceAsync(120_000);
    expect(h.statesOf('tts-never').filter((s) => s === 'starting')).toHaveLength(1);
  });
});
