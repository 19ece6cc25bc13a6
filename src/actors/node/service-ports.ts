/**
 * Which loopback port each service gets (PROTOCOL.md §9.8): the operator's override for the id,
 * else the service.json `port`; when there is neither, or that port is taken (by any process, or
 * held by another of this node's services), a free port from the OS. A port stays reserved from
 * the choice until the service is down again, so two services of one node never share a port.
 */
import { KernelError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { LoopbackPortPort } from '../../kernel/ports/loopback-port.port.js';

export interface ServicePortAllocator {
  /** Chooses and reserves the port of `serviceId`'s next start (its previous reservation is released first). */
  allocate(serviceId: string, preferred: number | undefined, signal: AbortSignal): Promise<number>;
  release(serviceId: string): void;
  /** Ports reserved now, by service id. */
  reserved(): ReadonlyMap<string, number>;
}

/** Free ports asked of the OS before giving up (each one may be held by one of our services). */
const MAX_PICKS = 20;

export function createServicePortAllocator(ports: LoopbackPortPort, logger: Logger): ServicePortAllocator {
  // One entry per service that is starting, running or stopping: bounded by the number of services.
  const reservations = new Map<string, number>();
  const heldByOthers = () => new Set(reservations.values());
  return {
    async allocate(serviceId, preferred, signal) {
      reservations.delete(serviceId);
      if (preferred !== undefined && !heldByOthers().has(preferred)) {
        // Reserved before the check, so a service starting at the same time cannot pick it too.
        reservations.set(serviceId, preferred);
        if (await ports.isFree(preferred, signal)) return preferred;
        reservations.delete(serviceId);
        logger.warn({ serviceId, port: preferred }, 'port in use; the service gets a free one');
      }
      for (let pick = 0; pick < MAX_PICKS; pick++) {
        const port = await ports.pickFree(signal);
        if (heldByOthers().has(port)) continue;
        reservations.set(serviceId, port);
        return port;
      }
      throw new KernelError('NO_FREE_PORT', 'no free loopback port for the service', { retryable: true, details: { serviceId } });
    },
    release(serviceId) {
      reservations.delete(serviceId);
    },
    reserved: () => reservations,
  };
}
