import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { FakeClock } from '../../../src/kernel/clock.js';
import { KernelError } from '../../../src/kernel/errors.js';
import { packageInstallMachine } from '../../../src/machines/package-install.machine.js';
import type { InstallDownload, InstallPlan, PackageInstallInput } from '../../../src/machines/package-install.machine.js';

const PLAN: InstallPlan = { serviceId: 'tiny', version: '2.0.0', sizeBytes: 100, sha256: 'a'.repeat(64), previous: '1.0.0', installed: false };
const DOWNLOAD: InstallDownload = { file: '/d/tiny.partial', sizeBytes: 100, sha256: 'a'.repeat(64) };

interface Script {
  plan?: InstallPlan;
  download?: Array<() => Promise<InstallDownload>>;
  verify?: () => Promise<void>;
  activate?: (signal: AbortSignal) => Promise<void>;
}

function harness(script: Script = {}, input: Partial<PackageInstallInput> = {}) {
  const clock = new FakeClock();
  const steps: string[] = [];
  const discards: unknown[] = [];
  const rollbacks: unknown[] = [];
  let downloads = 0;
  const logic = packageInstallMachine.provide({
    actors: {
      resolve: fromPromise(async () => {
        steps.push('resolve');
        return script.plan ?? PLAN;
      }),
      checkDisk: fromPromise(async (): Promise<void> => {
        steps.push('checkDisk');
      }),
      download: fromPromise(async ({ input: i }) => {
        steps.push(`download#${i.attempt}`);
        const next = script.download?.[downloads++];
        return next ? next() : DOWNLOAD;
      }),
      verify: fromPromise(async () => {
        steps.push('verify');
        await script.verify?.();
      }),
      unpack: fromPromise(async () => {
        steps.push('unpack');
        return '/staging/x';
      }),
      commit: fromPromise(async (): Promise<void> => {
        steps.push('commit');
      }),
      switchCurrent: fromPromise(async (): Promise<void> => {
        steps.push('switch');
      }),
      activate: fromPromise(async ({ signal }) => {
        steps.push('activate');
        await script.activate?.(signal);
      }),
      confirm: fromPromise(async (): Promise<void> => {
        steps.push('confirm');
      }),
      rollback: fromPromise(async ({ input: i }) => {
        steps.push('rollback');
        rollbacks.push(i);
      }),
      discard: fromPromise(async ({ input: i }) => {
        steps.push('discard');
        discards.push(i);
      }),
    },
  });
  const actor = createActor(logic, {
    clock,
    input: { serviceId: 'tiny', mode: 'install', retry: { maxRetries: 3, minMs: 1_000, maxMs: 8_000 }, activationTimeoutMs: 60_000, random: () => 0, ...input },
  });
  const phases: string[] = [];
  actor.on('install.phase', (e) => phases.push(e.phase));
  actor.subscribe({ error: () => undefined });
  actor.start();
  return { actor, clock, steps, discards, rollbacks, phases, done: toPromise(actor) };
}

const networkDown = () => Promise.reject(new KernelError('HUB_UNREACHABLE', 'refused', { retryable: true }));

describe('package install machine', () => {
  it('runs resolve → disk → download → verify → unpack → commit → switch → activate → confirm, in order', async () => {
    const h = harness();
    await expect(h.done).resolves.toEqual({ ok: true, outcome: 'installed', version: '2.0.0', previous: '1.0.0' });
    expect(h.steps).toEqual(['resolve', 'checkDisk', 'download#0', 'verify', 'unpack', 'commit', 'switch', 'activate', 'confirm']);
    expect(h.phases).toEqual(['resolve', 'download', 'verify', 'unpack', 'switch', 'switch', 'start']);
  });

  it('an installed version is only switched to; the active one is left unchanged', async () => {
    const switched = harness({ plan: { ...PLAN, installed: true } });
    await expect(switched.done).resolves.toMatchObject({ ok: true, outcome: 'switched' });
    expect(switched.steps).toEqual(['resolve', 'switch', 'activate', 'confirm']);
    const same = harness({ plan: { ...PLAN, version: '1.0.0', installed: true } });
    await expect(same.done).resolves.toMatchObject({ ok: true, outcome: 'unchanged', version: '1.0.0' });
    expect(same.steps).toEqual(['resolve']);
  });

  it('retries a retryable download failure after a backoff on the clock, then resumes', async () => {
    const h = harness({ download: [networkDown, networkDown] });
    await h.clock.advanceAsync(0);
    expect(h.steps.at(-1)).toBe('download#0');
    await h.clock.advanceAsync(999);
    expect(h.steps.filter((s) => s.startsWith('download'))).toEqual(['download#0']);
    await h.clock.advanceAsync(1);
    expect(h.steps.filter((s) => s.startsWith('download'))).toEqual(['download#0', 'download#1']);
    await h.clock.advanceAsync(1_999);
    expect(h.steps.filter((s) => s.startsWith('download'))).toHaveLength(2);
    await h.clock.advanceAsync(1);
    await expect(h.done).resolves.toMatchObject({ ok: true, outcome: 'installed' });
    expect(h.steps.filter((s) => s.startsWith('download'))).toEqual(['download#0', 'download#1', 'download#2']);
  });

  it('gives up with HUB_UNREACHABLE after the bounded retries and keeps the partial download', async () => {
    const h = harness({ download: [networkDown, networkDown, networkDown, networkDown, networkDown] });
    for (let i = 0; i < 4; i++) await h.clock.advanceAsync(10_000);
    const out = await h.done;
    expect(out).toMatchObject({ ok: false, error: { code: 'HUB_UNREACHABLE', details: { lastCode: 'HUB_UNREACHABLE', attempts: 4 } } });
    expect(h.steps.filter((s) => s.startsWith('download'))).toHaveLength(4);
    expect(h.discards).toEqual([{ plan: PLAN, stagingDir: undefined, discardDownload: false }]);
  });

  it('does not retry a non-retryable failure', async () => {
    const h = harness({ download: [() => Promise.reject(new KernelError('VERSION_NOT_FOUND', 'gone'))] });
    await expect(h.done).resolves.toMatchObject({ ok: false, error: { code: 'VERSION_NOT_FOUND' } });
    expect(h.steps).toEqual(['resolve', 'checkDisk', 'download#0', 'discard']);
  });

  it('a failed verification discards the complete download and never unpacks', async () => {
    const h = harness({ verify: () => Promise.reject(new KernelError('CHECKSUM_MISMATCH', 'bad')) });
    await expect(h.done).resolves.toMatchObject({ ok: false, error: { code: 'CHECKSUM_MISMATCH' } });
    expect(h.steps).not.toContain('unpack');
    expect(h.discards).toEqual([{ plan: PLAN, stagingDir: undefined, discardDownload: true }]);
  });

  it('a version that fails to start is rolled back and removed', async () => {
    const h = harness({ activate: () => Promise.reject(new KernelError('SERVICE_START_FAILED', 'exit 3')) });
    const out = await h.done;
    expect(out).toMatchObject({ ok: false, version: '2.0.0', previous: '1.0.0', error: { code: 'ACTIVATION_FAILED', details: { cause: 'SERVICE_START_FAILED' } } });
    expect(h.steps.slice(-2)).toEqual(['activate', 'rollback']);
    expect(h.rollbacks).toEqual([{ plan: PLAN, removeVersion: true }]);
  });

  it('a version not ready within activationTimeoutMs is rolled back (fake clock)', async () => {
    let activationSignal: AbortSignal | undefined;
    const h = harness({ activate: (signal) => new Promise((_, reject) => {
      activationSignal = signal;
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }) });
    await h.clock.advanceAsync(59_999);
    expect(h.steps.at(-1)).toBe('activate');
    await h.clock.advanceAsync(1);
    await expect(h.done).resolves.toMatchObject({ ok: false, error: { code: 'ACTIVATION_FAILED', details: { cause: 'ACTIVATION_TIMEOUT' } } });
    expect(activationSignal?.aborted).toBe(true);
    expect(h.rollbacks).toEqual([{ plan: PLAN, removeVersion: true }]);
  });

  it('a switch to an installed version that fails is rolled back without removing that version', async () => {
    const h = harness({ plan: { ...PLAN, installed: true }, activate: () => Promise.reject(new KernelError('SERVICE_START_FAILED', 'x')) });
    await expect(h.done).resolves.toMatchObject({ ok: false, error: { code: 'ACTIVATION_FAILED' } });
    expect(h.rollbacks).toEqual([{ plan: { ...PLAN, installed: true }, removeVersion: false }]);
  });

  it('cancelling while downloading discards; cancelling while activating rolls back', async () => {
    const slow = harness({ download: [() => new Promise(() => undefined)] });
    await slow.clock.advanceAsync(0);
    slow.actor.send({ type: 'install.cancel' });
    await expect(slow.done).resolves.toMatchObject({ ok: false, error: { code: 'ABORTED' } });
    expect(slow.discards).toEqual([{ plan: PLAN, stagingDir: undefined, discardDownload: false }]);

    const starting = harness({ activate: () => new Promise(() => undefined) });
    await starting.clock.advanceAsync(0);
    expect(starting.steps.at(-1)).toBe('activate');
    starting.actor.send({ type: 'install.cancel' });
    await expect(starting.done).resolves.toMatchObject({ ok: false, error: { code: 'ABORTED' } });
    expect(starting.rollbacks).toEqual([{ plan: PLAN, removeVersion: true }]);
  });
});
