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
  /** Default true. */
  enabled?: boolean;
  /** Default `/tts`. */
  ttsEndpoint?: ServiceSnapshot['ttsEndpoint'];
  /** Default 60 000. */
  startupTimeoutMs?: number;
  /** Address while running. Default `http://127.0.0.1:5999`. */
  baseUrl?: string;
}

const DEFAULT_FAKE_BASE_URL = 'http://127.0.0.1:5999';

export function fakeService(input: FakeServiceInput): ServiceSnapshot {
  return {
    id: input.id,
    type: input.type,
    device: input.device ?? 'gpu',
    dir: `/srv/services/${input.id}`,
    state: input.state,
    enabled: input.enabled ?? true,
    languages: normalizeServiceLanguages(input.type, input.languages),
    ttsEndpoint: input.ttsEndpoint ?? '/tts',
    startupTimeoutMs: input.startupTimeoutMs ?? 60_000,
    ...(input.version !== undefined ? { version: input.version } : {}),
    ...(input.lastError !== undefined ? { lastError: input.lastError } : {}),
    ...(input.memMb !== undefined ? { memMb: input.memMb } : {}),
    ...(input.warmupMs !== undefined ? { warmupMs: input.warmupMs } : {}),
    ...(input.state === 'running' ? { baseUrl: input.baseUrl ?? DEFAULT_FAKE_BASE_URL } : {}),
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

  /** Moves a service to another lifecycle state and announces it; a running one keeps (or gets) an address, others lose it. */
  setState(id: string, state: ServiceLifecycleState, lastError?: string, baseUrl?: string): void {
    const index = this.services.findIndex((s) => s.id === id);
    const current = this.services[index];
    if (!current) throw new Error(`no service ${id}`);
    const { baseUrl: previousUrl, ...rest } = current;
    const address = state === 'running' ? (baseUrl ?? previousUrl ?? DEFAULT_FAKE_BASE_URL) : state === 'starting' ? (baseUrl ?? previousUrl) : undefined;
    const next: ServiceSnapshot = { ...rest, state, ...(address !== undefined ? { baseUrl: address } : {}), ...(lastError !== undefined ? { lastError } : {}) };
    this.services[index] = next;
    this.announce(next);
  }

  private announce(snapshot: ServiceSnapshot): void {
    this.bus?.publish({ type: 'service.statusChanged', serviceId: snapshot.id, serviceType: snapshot.type, state: snapshot.state, wireStatus: wireStatusOf(snapshot.state) });
  }
}
