/**
 * A scripted `ServiceActivationPort`: records every call, activates instantly unless told to fail
 * a version or to hold an activation until the test releases it.
 */
import { KernelError } from '../../../src/kernel/errors.js';
import type { ServiceActivationPort } from '../../../src/kernel/ports/service-activation.port.js';

export type ActivationCall = { op: 'activate'; serviceId: string; version: string } | { op: 'deactivate'; serviceId: string };

export class FakeActivation implements ServiceActivationPort {
  readonly calls: ActivationCall[] = [];
  /** The version each service runs. */
  readonly active = new Map<string, string>();
  /** `id@version` whose activation ends in error. */
  readonly failing = new Set<string>();
  /** Versions running jobs use, per service. */
  readonly inUse = new Map<string, Set<string>>();
  private readonly gates = new Map<string, { promise: Promise<void>; release: () => void }>();
  private readonly waiters = new Map<string, Array<() => void>>();

  /** The next activation of `id@version` waits until `release(id, version)`. */
  hold(serviceId: string, version: string): void {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.gates.set(`${serviceId}@${version}`, { promise, release });
  }

  release(serviceId: string, version: string): void {
    this.gates.get(`${serviceId}@${version}`)?.release();
    this.gates.delete(`${serviceId}@${version}`);
  }

  /** Resolves when an activation of `id@version` has begun (it may be held). */
  activationStarted(serviceId: string, version: string): Promise<void> {
    if (this.calls.some((c) => c.op === 'activate' && c.serviceId === serviceId && c.version === version)) return Promise.resolve();
    return new Promise((resolve) => {
      const key = `${serviceId}@${version}`;
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), resolve]);
    });
  }

  async activate(serviceId: string, version: string, signal: AbortSignal): Promise<void> {
    const key = `${serviceId}@${version}`;
    this.calls.push({ op: 'activate', serviceId, version });
    for (const wake of this.waiters.get(key) ?? []) wake();
    this.waiters.delete(key);
    const gate = this.gates.get(key);
    if (gate) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new KernelError('ABORTED', 'activation aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        void gate.promise.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    if (this.failing.has(key)) {
      this.active.delete(serviceId);
      throw new KernelError('SERVICE_START_FAILED', `${key} ended in error`);
    }
    this.active.set(serviceId, version);
  }

  async deactivate(serviceId: string): Promise<void> {
    this.calls.push({ op: 'deactivate', serviceId });
    this.active.delete(serviceId);
  }

  inUseVersions(serviceId: string): ReadonlySet<string> {
    return this.inUse.get(serviceId) ?? new Set();
  }

  activations(serviceId: string): string[] {
    return this.calls.flatMap((c) => (c.op === 'activate' && c.serviceId === serviceId ? [c.version] : []));
  }
}
