import { describe, expect, it } from 'vitest';
import { bootLifecycle, TEST_POLICY } from '../../support/service-lifecycle-fakes.js';

async function running(h: ReturnType<typeof bootLifecycle>, pid = 100) {
  h.setHealth({ ready: true });
  await h.clock.advanceAsync(0);
  h.lastProcess().report({ type: 'process.spawned', pid });
  await h.clock.advanceAsync(TEST_POLICY.healthIntervalMs);
  expect(h.current()).toBe('running');
}

describe('service lifecycle: crashes, restart intensity and backoff', () => {
  it('a crash while running → failed → backoff (minBackoffMs) → starting with a fresh process', async () => {
    const h = bootLifecycle();
    await running(h);
    h.lastProcess().report({ type: 'process.exited', exit: { code: 1, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('backoff');
    expect(h.views.at(-1)).toMatchObject({ state: 'backoff', lastError: 'exited with code 1', pid: undefined });
    expect(h.lastProcess().disposed).toBe(true);
    await h.clock.advanceAsync(TEST_POLICY.minBackoffMs - 1);
    expect(h.processes).toHaveLength(1);
    await h.clock.advanceAsync(1);
    expect(h.processes).toHaveLength(2);
    await h.clock.advanceAsync(TEST_POLICY.healthIntervalMs);
    expect(h.current()).toBe('running');
    expect(h.views.at(-1)?.lastError).toBeUndefined();
    expect(h.states()).toEqual(['starting', 'running', 'failed', 'backoff', 'starting', 'running']);
  });

  it('backoff grows exponentially within the intensity window', async () => {
    const h = bootLifecycle({ policy: { maxRestarts: 5 } });
    await running(h);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      h.lastProcess().report({ type: 'process.exited', exit: { code: 1, signal: null } });
      await h.clock.advanceAsync(0);
      delays.push(h.actor.getSnapshot().context.backoffMs);
      await h.clock.advanceAsync(h.actor.getSnapshot().context.backoffMs);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000]);
  });

  it('a crash loop past maxRestarts within withinMs stays in error with the reason instead of looping', async () => {
    const h = bootLifecycle({ policy: { maxRestarts: 2 } });
    for (let i = 0; i < 3; i++) {
      await h.clock.advanceAsync(0);
      h.lastProcess().report({ type: 'process.exited', exit: { code: 3, signal: null } });
      await h.clock.advanceAsync(0);
      await h.clock.advanceAsync(h.actor.getSnapshot().context.backoffMs);
    }
    expect(h.current()).toBe('error');
    expect(h.views.at(-1)?.lastError).toBe('exited with code 3 before it was ready; gave up after 2 restarts within 60000 ms');
    await h.clock.advanceAsync(600_000);
    expect(h.processes).toHaveLength(3);
    // An operator's start gives it a fresh budget.
    h.actor.send({ type: 'service.start' });
    await h.clock.advanceAsync(0);
    expect(h.processes).toHaveLength(4);
    expect(h.actor.getSnapshot().context.restarts).toEqual([]);
  });

  it('a hung process: 3 failed probes in a row → killed with SIGKILL → failed → restarted', async () => {
    const h = bootLifecycle();
    await running(h);
    h.setHealth('hang');
    await h.clock.advanceAsync(TEST_POLICY.probeIntervalMs + TEST_POLICY.healthTimeoutMs);
    await h.clock.advanceAsync(TEST_POLICY.probeIntervalMs + TEST_POLICY.healthTimeoutMs);
    expect(h.current()).toBe('running');
    expect(h.lastProcess().signals).toEqual([]);
    await h.clock.advanceAsync(TEST_POLICY.probeIntervalMs + TEST_POLICY.healthTimeoutMs);
    expect(h.current()).toBe('failed');
    expect(h.lastProcess().signals).toEqual(['SIGKILL']);
    expect(h.views.at(-1)?.lastError).toBe('3 health checks failed in a row (last: timeout); killed');
    h.lastProcess().report({ type: 'process.exited', exit: { code: null, signal: 'SIGKILL' } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('backoff');
    h.setHealth({ ready: true });
    await h.clock.advanceAsync(TEST_POLICY.minBackoffMs + TEST_POLICY.healthIntervalMs);
    expect(h.current()).toBe('running');
    expect(h.processes).toHaveLength(2);
  });

  it('a passing probe resets the count of failed probes', async () => {
    const h = bootLifecycle();
    await running(h);
    const answers = [false, false, true, false, false];
    h.setHealth(() => (answers.shift() ? { ready: true } : { ready: false, reason: 'HTTP 503' }));
    for (let i = 0; i < 5; i++) await h.clock.advanceAsync(TEST_POLICY.probeIntervalMs);
    expect(h.current()).toBe('running');
    expect(h.actor.getSnapshot().context.probeFailures).toBe(2);
  });
});

describe('service lifecycle: stop, restart and shutdown', () => {
  it('stop: SIGTERM, then SIGKILL once stopTimeoutMs passes, then stopped', async () => {
    const h = bootLifecycle();
    await running(h);
    h.actor.send({ type: 'service.stop' });
    expect(h.current()).toBe('stopping');
    expect(h.lastProcess().signals).toEqual(['SIGTERM']);
    await h.clock.advanceAsync(TEST_POLICY.stopTimeoutMs - 1);
    expect(h.lastProcess().signals).toEqual(['SIGTERM']);
    await h.clock.advanceAsync(1);
    expect(h.lastProcess().signals).toEqual(['SIGTERM', 'SIGKILL']);
    h.lastProcess().report({ type: 'process.exited', exit: { code: null, signal: 'SIGKILL' } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('stopped');
    expect(h.views.at(-1)).toMatchObject({ state: 'stopped', pid: undefined, lastExit: { signal: 'SIGKILL' } });
    // A requested stop is not a failure: nothing restarts it.
    await h.clock.advanceAsync(600_000);
    expect(h.processes).toHaveLength(1);
  });

  it('restart: stop the process, then start a new one', async () => {
    const h = bootLifecycle();
    await running(h);
    h.actor.send({ type: 'service.restart' });
    expect(h.lastProcess().signals).toEqual(['SIGTERM']);
    h.lastProcess().report({ type: 'process.exited', exit: { code: 0, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.processes).toHaveLength(2);
    await h.clock.advanceAsync(TEST_POLICY.healthIntervalMs);
    expect(h.states()).toEqual(['starting', 'running', 'stopping', 'starting', 'running']);
  });

  it('start during a stop restarts once the process is gone; stop during backoff cancels the restart', async () => {
    const h = bootLifecycle();
    await running(h);
    h.actor.send({ type: 'service.stop' });
    h.actor.send({ type: 'service.start' });
    h.lastProcess().report({ type: 'process.exited', exit: { code: 0, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('starting');
    h.lastProcess().report({ type: 'process.exited', exit: { code: 1, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.current()).toBe('backoff');
    h.actor.send({ type: 'service.stop' });
    await h.clock.advanceAsync(60_000);
    expect(h.current()).toBe('stopped');
    expect(h.processes).toHaveLength(2);
  });

  it('supervisor.shutdown stops the process and reaches the final state; a shutdown wins over a pending restart', async () => {
    const h = bootLifecycle();
    await running(h);
    h.actor.send({ type: 'service.restart' });
    h.actor.send({ type: 'supervisor.shutdown' });
    h.actor.send({ type: 'service.start' });
    h.lastProcess().report({ type: 'process.exited', exit: { code: 0, signal: null } });
    await h.clock.advanceAsync(0);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.processes).toHaveLength(1);
    expect(h.lastProcess().disposed).toBe(true);
    expect(h.views.at(-1)?.state).toBe('stopped');
  });

  it('supervisor.shutdown of a stopped, backing-off or failed service ends it at once', async () => {
    for (const setupState of ['stopped', 'backoff', 'error'] as const) {
      const h = bootLifecycle({ autoStart: setupState !== 'stopped', policy: { maxRestarts: setupState === 'backoff' ? 1 : 0 } });
      if (setupState !== 'stopped') {
        await h.clock.advanceAsync(0);
        h.lastProcess().report({ type: 'process.exited', exit: { code: 1, signal: null } });
        await h.clock.advanceAsync(0);
      }
      expect(h.current()).toBe(setupState);
      h.actor.send({ type: 'supervisor.shutdown' });
      expect(h.actor.getSnapshot().status).toBe('done');
    }
  });
});
