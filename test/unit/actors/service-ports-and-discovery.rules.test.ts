import { describe, expect, it } from 'vitest';
import { oneServicePerId, sameDiscovery } from '../../../src/actors/node/service-discovery.js';
import { createServicePortAllocator } from '../../../src/actors/node/service-ports.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { LoopbackPortPort } from '../../../src/kernel/ports/loopback-port.port.js';
import type { DiscoveredService } from '../../../src/kernel/ports/service-directory.port.js';

/** Ports taken by other processes, and the sequence of ports the OS hands out as free. */
function fakePorts(taken: number[], free: number[]): LoopbackPortPort & { checks: number[] } {
  const checks: number[] = [];
  return {
    checks,
    isFree: async (port) => {
      checks.push(port);
      await Promise.resolve();
      return !taken.includes(port);
    },
    pickFree: async () => {
      const port = free.shift();
      if (port === undefined) throw new Error('no more');
      return port;
    },
  };
}

const never = () => new AbortController().signal;

describe('service ports (PROTOCOL.md §9.8)', () => {
  it('uses the preferred port when it is free, else a free one; none preferred → a free one', async () => {
    const allocator = createServicePortAllocator(fakePorts([5010], [40001, 40002]), silentLogger());
    expect(await allocator.allocate('a', 5009, never())).toBe(5009);
    expect(await allocator.allocate('b', 5010, never())).toBe(40001);
    expect(await allocator.allocate('c', undefined, never())).toBe(40002);
    expect([...allocator.reserved()]).toEqual([['a', 5009], ['b', 40001], ['c', 40002]]);
  });

  it('never gives two services one port: not the same preference at the same time, nor a free port another holds', async () => {
    const ports = fakePorts([], [5009, 40001]);
    const allocator = createServicePortAllocator(ports, silentLogger());
    const [a, b] = await Promise.all([allocator.allocate('a', 5009, never()), allocator.allocate('b', 5009, never())]);
    expect([a, b]).toEqual([5009, 40001]);
    expect(ports.checks).toEqual([5009]);
  });

  it('a released port can be taken again; a new start of the same service releases its old port first', async () => {
    const allocator = createServicePortAllocator(fakePorts([], [40001]), silentLogger());
    expect(await allocator.allocate('a', 5009, never())).toBe(5009);
    expect(await allocator.allocate('a', 5009, never())).toBe(5009);
    allocator.release('a');
    expect(await allocator.allocate('b', 5009, never())).toBe(5009);
  });

  it('gives up with NO_FREE_PORT when the OS only offers ports our services hold', async () => {
    const allocator = createServicePortAllocator(fakePorts([], [5009, ...Array.from({ length: 20 }, () => 5009)]), silentLogger());
    await allocator.allocate('a', 5009, never());
    await expect(allocator.allocate('b', undefined, never())).rejects.toMatchObject({ code: 'NO_FREE_PORT', retryable: true });
  });
});

describe('discovery rules', () => {
  const service = (id: string, dir: string, source: 'installed' | 'extra'): DiscoveredService => ({ id, dir, source, result: { ok: false, error: 'x' } });

  it('one service per id: an extra directory overrides an installed one; a second installed one is left out', () => {
    const { services, shadowed } = oneServicePerId([service('a', '/s/a', 'installed'), service('b', '/s/b', 'installed'), service('a', '/dev/a', 'extra'), service('b', '/dev/b2', 'installed')]);
    expect([...services.values()].map((s) => s.dir)).toEqual(['/dev/a', '/s/b']);
    expect(shadowed).toEqual([
      { id: 'a', kept: '/dev/a', ignored: '/s/a' },
      { id: 'b', kept: '/s/b', ignored: '/dev/b2' },
    ]);
  });

  it('a service changed when its directory (a switched version) or its service.json changed', () => {
    const a = service('a', '/s/a/1.0.0', 'installed');
    expect(sameDiscovery(a, { ...a })).toBe(true);
    expect(sameDiscovery(a, { ...a, dir: '/s/a/2.0.0' })).toBe(false);
    expect(sameDiscovery(a, { ...a, result: { ok: false, error: 'y' } })).toBe(false);
  });
});
