/**
 * The package manager's ServiceActivationPort over the node's hot-plug runtime (PROTOCOL.md §10.9
 * step 7): the services manager makes a version live (with no gap when another one runs) or stops
 * a service; the jobs say which versions their calls in flight use.
 *
 * It also keeps the registry in step with the package files: after an uninstall, or a failed
 * install whose rollback removed a version, the service is brought in line with the disk again
 * (forgotten when nothing of it is left), so the next heartbeat reports what is installed.
 */
import type { Bus } from '../../kernel/bus.js';
import type { Logger } from '../../kernel/logger.js';
import type { ServiceActivationPort } from '../../kernel/ports/service-activation.port.js';
import type { ServicesManager } from './services.actor.js';

export interface ServiceActivationDeps {
  services: Pick<ServicesManager, 'activate' | 'deactivate' | 'refresh'>;
  bus: Bus;
  logger: Logger;
  /** Versions of a service that jobs are calling now (none while no jobs runtime is plugged in). */
  inUseVersions(serviceId: string): ReadonlySet<string>;
}

export interface ServiceActivation extends ServiceActivationPort {
  /** Drops the bus subscriptions. */
  dispose(): void;
}

export function createServiceActivation(deps: ServiceActivationDeps): ServiceActivation {
  const log = deps.logger.child({ actor: 'activation' });
  const refresh = (serviceId: string) => {
    deps.services.refresh(serviceId).catch((err: unknown) => log.warn({ err, serviceId }, 'cannot bring the service in line with its package files'));
  };
  const subscriptions = [
    deps.bus.subscribe('package.uninstalled', (event) => refresh(event.serviceId)),
    deps.bus.subscribe('package.failed', (event) => refresh(event.serviceId)),
  ];
  return {
    async activate(serviceId, version, signal) {
      await deps.services.activate(serviceId, version, signal);
    },
    deactivate: (serviceId, signal) => deps.services.deactivate(serviceId, signal),
    inUseVersions: (serviceId) => deps.inUseVersions(serviceId),
    dispose: () => subscriptions.forEach((unsubscribe) => unsubscribe()),
  };
}
