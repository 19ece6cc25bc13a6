/**
 * A ServiceControlPort over a FakeServiceRegistry: `ensureRunning` moves a stopped service to
 * `starting`, then (after `startDelayMs` on the fake clock) to `running`, and resolves with its
 * snapshot — or fails, when the test says so. The other commands move states at once. Calls are
 * recorded.
 */
import type { Clock } from '../../src/kernel/clock.js';
import { AbortedError, KernelError, TimeoutError } from '../../src/kernel/errors.js';
import type { ServiceControlPort, ServiceSnapshot } from '../../src/kernel/ports/service-registry.port.js';
import type { FakeServiceRegistry } from './service-registry.fake.js';

export class FakeServiceControl implements ServiceControlPort {
  readonly calls: { op: string; id: string; signal: AbortSignal }[] = [];
  /** Time an on-demand start takes, in ms of the fake clock. */
  startDelayMs = 0;
  /** Services whose start fails (they end in `error`). */
  readonly failing = new Set<string>();
  /** Address a started service gets; default the registry's. */
  readonly addresses = new Map<string, string>();

  constructor(
    private readonly registry: FakeServiceRegistry,
    private readonly clock: Clock,
  ) {}

  ensureRunningCalls(): string[] {
    return this.calls.filter((c) => c.op === 'ensureRunning').map((c) => c.id);
  }

  async ensureRunning(id: string, signal: AbortSignal): Promise<ServiceSnapshot> {
    this.calls.push({ op: 'ensureRunning', id, signal });
    const service = this.known(id);
    if (service.state === 'running') return service;
    this.registry.setState(id, 'starting');
    await new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(resolve, this.startDelayMs);
      signal.addEventListener('abort', () => {
        this.clock.clearTimeout(timer);
        reject(new AbortedError(`start of ${id} aborted`));
      }, { once: true });
    });
    if (this.failing.has(id)) {
      this.registry.setState(id, 'error', 'health check never passed');
      throw new TimeoutError('SERVICE_START_TIMEOUT', `service ${id} did not become healthy`, { details: { serviceId: id } });
    }
    this.registry.setState(id, 'running', undefined, this.addresses.get(id));
    return this.known(id);
  }

  async start(id: string, signal: AbortSignal): Promise<ServiceSnapshot> {
    this.calls.push({ op: 'start', id, signal });
    this.registry.setState(id, 'running', undefined, this.addresses.get(id));
    return this.known(id);
  }

  async stop(id: string, signal: AbortSignal): Promise<ServiceSnapshot> {
    this.calls.push({ op: 'stop', id, signal });
    this.registry.setState(id, 'stopped');
    return this.known(id);
  }

  async restart(id: string, signal: AbortSignal): Promise<ServiceSnapshot> {
    await this.stop(id, signal);
    return this.start(id, signal);
  }

  async setEnabled(id: string, enabled: boolean, signal: AbortSignal): Promise<ServiceSnapshot> {
    this.calls.push({ op: enabled ? 'enable' : 'disable', id, signal });
    const service = this.known(id);
    return { ...service, enabled };
  }

  private known(id: string): ServiceSnapshot {
    const service = this.registry.get(id);
    if (!service) throw new KernelError('SERVICE_NOT_INSTALLED', `service ${id} is not installed`, { details: { serviceId: id } });
    return service;
  }
}
