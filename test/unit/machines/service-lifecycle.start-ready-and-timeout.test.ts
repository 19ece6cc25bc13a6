import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/kernel/clock.js';
import { serviceLifecycleMachine } from '../../../src/machines/service-lifecycle.machine.js';
import { bootLifecycle, TEST_POLICY } from '../../support/service-lifecycle-fakes.js';

describe('service lifecycle: start and readiness (PROTOCOL.md §9.1)', () => {
  it('pure: a service that is not started automatically rests in stopped; service.start moves it to starting', () => {
    const clock = new FakeClock();
    const [stopped] = initialTransition(serviceLifecycleMachine, { serviceId: 'a', policy: TEST_POLICY, autoStart: false, clock });
    expect(stopped.value).toBe('stopped');
    expect(stopped.context.lifecycle).toBe('stopped');
    const [starting] = transition(serviceLifecycleMachine, stopped, { type: 'service.start' });
    expect(starting.value).toBe('allocating');
    expect(starting.context.lifecycle).toBe('starting');
    expect(starting.context.startedAt).toBe(clock.now());
  });

  it('polls health every interval and is running only after the first passing check, with its warm-up time', async () => {
    const h = bootLifecycle();
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('starting');
    expect(h.lastProcess().input).toEqual({ serviceId: 'tts-es', port: 5009 });
    h.lastProcess().report({ type: 'process.spawned', pid: 4242 });
    await h.clock.advanceAsync(999);
    expect(h.probes).toHaveLength(0);
    await h.clock.advanceAsync(1);
    expect(h.probes).toHaveLength(1);
    expect(h.current()).toBe('starting');
    h.setHealth({ ready: true });
    await h.clock.advanceAsync(1_000);
    expect(h.current()).toBe('running');
    expect(h.views.at(-1)).toMatchObject({ state: 'running', pid: 4242, port: 5009, warmupMs: 2_000 });
    expect(h.states()).toEqual(['starting', 'running']);
  });

  it('§12 item 40: health never ok within startup_timeout_ms → stopped with SIGTERM, then error, never running', async () => {
    const h = bootLifecycle();
    h.setHealth({ ready: false, reason: 'status not_ready' });
    await h.clock.advanceAsync(0);
    h.lastProcess().report({ type: 'process.spawned', pid: 1 });
    await h.clock.advanceAsync(TEST_POLICY.startupTimeoutMs);
    expect(h.current()).toBe('stopping');
    expect(h.lastProcess().signals).toEqual(['SIGTERM']);
    h.lastProcess().report({ type: 'process.exited', exit: { code: null, signal: 'SIGTERM' } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('error');
    expect(h.views.at(-1)?.lastError).toMatch(/not ready within 10000 ms \(last health check: status not_ready\)/);
    expect(h.states()).not.toContain('running');
    // No automatic retry of a start that timed out.
    await h.clock.advanceAsync(120_000);
    expect(h.processes).toHaveLength(1);
    expect(h.current()).toBe('error');
  });

  it('a probe that hangs past health_check.timeout_ms counts as not ready and polling goes on', async () => {
    const h = bootLifecycle();
    h.setHealth('hang');
    await h.clock.advanceAsync(0);
    await h.clock.advanceAsync(1_000 + 2_000);
    expect(h.probes).toHaveLength(1);
    h.setHealth({ ready: true });
    await h.clock.advanceAsync(1_000);
    expect(h.probes).toHaveLength(2);
    expect(h.current()).toBe('running');
  });

  it('the exact stdout line [SERVICE_READY] is a passing check; a line merely containing it triggers a probe at once', async () => {
    const h = bootLifecycle();
    await h.clock.advanceAsync(0);
    h.lastProcess().report({ type: 'process.readyHint' });
    await h.clock.advanceAsync(0);
    expect(h.probes).toHaveLength(1);
    expect(h.current()).toBe('starting');
    h.setHealth({ ready: true, languages: { tts: ['fr'] } });
    h.lastProcess().report({ type: 'process.readyLine' });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('running');
    // Running via the ready line, the service is probed at once to learn its run-time languages.
    expect(h.probes).toHaveLength(2);
    expect(h.views.at(-1)).toMatchObject({ state: 'running', healthLanguages: { tts: ['fr'] } });
  });

  it('takes the languages of the ready health answer (§9.7 [ext])', async () => {
    const h = bootLifecycle();
    h.setHealth({ ready: true, languages: { nmt: [{ src: 'en', tgt: 'de' }] } });
    await h.clock.advanceAsync(1_000);
    expect(h.views.at(-1)).toMatchObject({ state: 'running', healthLanguages: { nmt: [{ src: 'en', tgt: 'de' }] } });
  });

  it('a process that exits before it is ready is a failure (restarted with backoff), not a timeout', async () => {
    const h = bootLifecycle();
    await h.clock.advanceAsync(0);
    h.lastProcess().report({ type: 'process.exited', exit: { code: 2, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('backoff');
    expect(h.views.find((v) => v.state === 'failed')?.lastError).toBe('exited with code 2 before it was ready');
  });

  it('a command that cannot be spawned ends in error at once', async () => {
    const h = bootLifecycle();
    await h.clock.advanceAsync(0);
    h.lastProcess().report({ type: 'process.spawnFailed', message: 'spawn nope ENOENT' });
    await h.clock.advanceAsync(60_000);
    expect(h.current()).toBe('error');
    expect(h.processes).toHaveLength(1);
    expect(h.views.at(-1)?.lastError).toBe('spawn nope ENOENT');
  });

  it('no port → error with the cause', async () => {
    const h = bootLifecycle({ port: new Error('no free port on 127.0.0.1') });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('error');
    expect(h.views.at(-1)?.lastError).toBe('no port: no free port on 127.0.0.1');
    expect(h.processes).toHaveLength(0);
  });
});
