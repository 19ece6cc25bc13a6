/**
 * A node-side package manager over the real adapters for integration tests, with the bus recorded,
 * a fake clock by default, and helpers that read the on-disk state of `services/`.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageManager } from '../../../src/actors/node/package-manager.actor.js';
import { createNodePackageManager } from '../../../src/cli/package-manager.js';
import type { NodePackageManagerDeps, NodePackageManagerOptions } from '../../../src/cli/package-manager.js';
import { createBus } from '../../../src/kernel/bus.js';
import type { Bus, BusEvent } from '../../../src/kernel/bus.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import type { ServiceActivationPort } from '../../../src/kernel/ports/service-activation.port.js';

export interface NodeHarness {
  manager: PackageManager;
  bus: Bus;
  events: BusEvent[];
  clock: FakeClock;
  servicesDir: string;
  close(): Promise<void>;
}

export function nodeHarness(
  options: Omit<NodePackageManagerOptions, 'servicesDir'> & { servicesDir: string },
  deps: Partial<NodePackageManagerDeps> & { activation: ServiceActivationPort },
): NodeHarness {
  const bus = createBus();
  const events: BusEvent[] = [];
  bus.subscribeAll((e) => events.push(e));
  const clock = (deps.clock as FakeClock | undefined) ?? new FakeClock();
  const manager = createNodePackageManager(options, { bus, clock, random: () => 0, ...deps });
  return { manager, bus, events, clock, servicesDir: options.servicesDir, close: () => manager.close() };
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** The version `services/<id>/current` names (link first, then current.json), or undefined. */
export async function currentOf(servicesDir: string, id: string): Promise<string | undefined> {
  try {
    return (await readlink(join(servicesDir, id, 'current'))).split('/').pop();
  } catch {
    try {
      return (JSON.parse(await readFile(join(servicesDir, id, 'current.json'), 'utf8')) as { version: string }).version;
    } catch {
      return undefined;
    }
  }
}

/** Installed version directories of a service. */
export async function versionsOf(servicesDir: string, id: string): Promise<string[]> {
  return (await list(join(servicesDir, id))).filter((n) => /^\d/.test(n));
}

/** What an interrupted or failed operation could leave behind: staging dirs, partials, journals, trash. */
export async function leftovers(servicesDir: string): Promise<{ staging: string[]; downloads: string[]; journal: string[]; trash: string[] }> {
  const work = join(servicesDir, '.packages');
  return { staging: await list(join(work, 'staging')), downloads: await list(join(work, 'downloads')), journal: await list(join(work, 'journal')), trash: await list(join(work, 'trash')) };
}

/** A `prom-client` counter value from the hub's `/metrics` text. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    if (wanted.every((w) => inside.split(',').includes(w))) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return 0;
}
