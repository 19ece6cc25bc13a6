import { describe, expect, it } from 'vitest';
import { packagesChildSpec } from '../../../src/actors/node/package-manager.actor.js';
import type { PackageManager } from '../../../src/actors/node/package-manager.actor.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { KernelError } from '../../../src/kernel/errors.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { bootSystem } from '../../../src/kernel/system.js';

function fakeManager(recover: () => Promise<void>): PackageManager & { calls: string[] } {
  const calls: string[] = [];
  const refuse = () => Promise.reject(new KernelError('NOT_USED', 'not used here'));
  return {
    calls,
    recover: async () => {
      calls.push('recover');
      await recover();
      return { removedStaging: [], reverted: [], partials: [] };
    },
    close: async () => {
      calls.push('close');
    },
    install: refuse,
    use: refuse,
    uninstall: refuse,
    begin: () => {
      throw new KernelError('NOT_USED', 'not used here');
    },
    operation: () => undefined,
    list: refuse,
    available: refuse,
  };
}

describe('the packages child of the node tree', () => {
  it('recovers at start and closes the manager on the ordered shutdown', async () => {
    const clock = new FakeClock();
    const manager = fakeManager(async () => undefined);
    const handle = bootSystem({ clock, root: { id: 'node', strategy: 'one_for_one', children: [packagesChildSpec(manager, silentLogger())] } });
    await clock.advanceAsync(0);
    expect(manager.calls).toEqual(['recover']);
    expect(handle.system.get('packages')).toBeDefined();
    const exit = handle.stop();
    await clock.advanceAsync(0);
    await expect(exit).resolves.toEqual({ reason: 'shutdown' });
    expect(manager.calls).toEqual(['recover', 'close']);
  });

  it('a failed recovery is reported and the child keeps running', async () => {
    const clock = new FakeClock();
    const manager = fakeManager(() => Promise.reject(new KernelError('PACKAGE_STORE_FAILED', 'EACCES')));
    const handle = bootSystem({ clock, root: { id: 'node', strategy: 'one_for_one', children: [packagesChildSpec(manager, silentLogger())] } });
    await clock.advanceAsync(0);
    expect(handle.system.get('packages')?.getSnapshot().value).toBe('running');
    const exit = handle.stop();
    await clock.advanceAsync(0);
    await expect(exit).resolves.toEqual({ reason: 'shutdown' });
    expect(manager.calls).toEqual(['recover', 'close']);
  });
});
