/**
 * A ServiceRegistryPort whose services the test sets. `set`/`update`/`remove` publish
 * `service.statusChanged` on the given bus, as the hot-plug services supervisor does.
 */
import type { Bus } from '../../src/kernel/bus.js';
import type { ServiceLifecycleState } from '../../src/kernel/bus-events.js';
import type { ServiceRegistryPort, ServiceSnapshot } from '../../src/kernel/ports/service-registry.port.js';
import { wireStatusOf } from '../../src/kernel/ports/service-registry.port.js';
import { normalizeServiceLanguages } from '../../src/protocol/service-json.schema.js';
import type { ServiceLanguagesInput } from '../../src/protocol/service-json.schema.js';

export interface FakeServiceInput {
  id: string;
  type: string;
  state: ServiceLifecycleState;
  device?: ServiceSnapshot['device'];
  /** As written in service.json; normalized for the service's type. */
  languages?: ServiceLanguagesInput;
  version?: string;
  lastError?: string;
  memMb?: number;
  warmupMs?: number;
}

export function fakeService(input: FakeServiceInput): ServiceSnapshot {
  return {
    id: input.id,
    type: input.type,
    device: input.device ?? 'gpu',
    dir: `/srv/services/${input.id}`,
    state: input.state,
    enabled: true,
    languages: normalizeServiceLanguages(input.type, input.languages),
    ttsEndpoint: '/tts',
    startupTimeoutMs: 60_000,
    ...(input.version !== undefined ? { version: input.version } : {}),
    ...(input.lastError !== undefined ? { lastError: input.lastError } : {}),
    ...(input.memMb !== undefined ? { memMb: input.memMb } : {}),
    ...(input.warmupMs !== undefined ? { warmupMs: input.warmupMs } : {}),
    ...(input.state === 'running' ? { baseUrl: 'http://127.0.0.1:5999' } : {}),
  };
}

export class FakeServiceRegistry implements ServiceRegistryPort {
  private services: ServiceSnapshot[] = [];

  constructor(private readonly bus?: Bus, initial: FakeServiceInput[] = []) {
    this.services = initial.map(fakeService);
  }

  list(): readonly ServiceSnapshot[] {
    return this.services;
  }

  get(id: string): ServiceSnapshot | undefined {
    return this.services.find((s) => s.id === id);
  }

  /** Adds or replaces a service and announces it. */
  set(input: FakeServiceInput): void {
    const snapshot = fakeService(input);
    const index = this.services.findIndex((s) => s.id === input.id);
    if (index >= 0) this.services[index] = snapshot;
    else this.services.push(snapshot);
    this.announce(snapshot);
  }

  /** Moves a service to another lifecycle state and announces it. */
  setState(id: string, state: ServiceLifecycleState, lastError?: string): void {
    const index = this.services.findIndex((s) => s.id === id);
    const current = this.services[index];
    if (!current) throw new Error(`no service ${id}`);
    const next: ServiceSnapshot = { ...current, state, ...(lastError !== undefined ? { lastError } : {}) };
    this.services[index] = next;
    this.announce(next);
  }

  private announce(snapshot: ServiceSnapshot): void {
    this.bus?.publish({ type: 'service.statusChanged', serviceId: snapshot.id, serviceType: snapshot.type, state: snapshot.state, wireStatus: wireStatusOf(snapshot.state) });
  }
}
