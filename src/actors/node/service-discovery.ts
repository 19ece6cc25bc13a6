/**
 * Pure rules over what the service directories hold: one service per id (an extra development
 * directory overrides an installed service of the same id), and whether a service changed between
 * two scans (another directory, i.e. a switched version, or another service.json).
 */
import type { DiscoveredService } from '../../kernel/ports/service-directory.port.js';

export interface Shadowed {
  id: string;
  kept: string;
  ignored: string;
}

/** One service per id, in scan order; `shadowed` lists the directories left out. */
export function oneServicePerId(found: readonly DiscoveredService[]): { services: Map<string, DiscoveredService>; shadowed: Shadowed[] } {
  const services = new Map<string, DiscoveredService>();
  const shadowed: Shadowed[] = [];
  for (const f of found) {
    const existing = services.get(f.id);
    if (existing) {
      const extraWins = f.source === 'extra';
      shadowed.push({ id: f.id, kept: extraWins ? f.dir : existing.dir, ignored: extraWins ? existing.dir : f.dir });
      if (!extraWins) continue;
    }
    services.set(f.id, f);
  }
  return { services, shadowed };
}

/** Whether two scans found the same service: same directory, version and service.json (or the same problem). */
export function sameDiscovery(a: DiscoveredService, b: DiscoveredService): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
