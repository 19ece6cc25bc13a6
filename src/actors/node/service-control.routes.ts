/**
 * The hot-plug API on the node's loopback control endpoint, as route data for the node's HTTP
 * server: list the services, and start, stop, restart, enable or disable one at run time.
 *
 *   GET  /api/services                 → { services: [...] }
 *   GET  /api/services/:id             → one service
 *   POST /api/services/:id/<action>    → the service once the action is done (start waits for running)
 *   POST /api/services/rescan          → { added, removed, changed } (when a rescan is given)
 */
import { isKernelError } from '../../kernel/errors.js';
import type { ServiceLifecycleState } from '../../kernel/bus-events.js';
import type { HttpResponse, HttpRoute } from '../../kernel/ports/http.port.js';
import { wireStatusOf } from '../../kernel/ports/service-registry.port.js';
import type { ServiceControlPort, ServiceRegistryPort, ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import { SERVICE_CONTROL_ACTIONS } from '../../protocol/node-control.schema.js';
import type { ServiceControlAction, ServiceRescanBody, ServiceStateBody } from '../../protocol/node-control.schema.js';

// The wire enum of the control API and the kernel's lifecycle states are one list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _statesAgree: Same<ServiceLifecycleState, ServiceStateBody['state']> = true;
void _statesAgree;

export function serviceStateBody(snapshot: ServiceSnapshot): ServiceStateBody {
  return { ...snapshot, wireStatus: wireStatusOf(snapshot.state) };
}

function statusOfCode(code: string): number {
  switch (code) {
    case 'SERVICE_NOT_FOUND':
      return 404;
    case 'INVALID_SERVICE_JSON':
    case 'SERVICE_DISABLED':
    case 'SERVICE_FAILED':
      return 409;
    case 'SERVICES_NOT_RUNNING':
      return 503;
    case 'SERVICE_START_TIMEOUT':
    case 'SERVICE_STOP_TIMEOUT':
      return 504;
    default:
      return 500;
  }
}

/** Answers a KernelError with its code (the server adapter's own mapping knows only the generic codes). */
async function answer(work: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await work();
  } catch (err) {
    if (!isKernelError(err)) throw err;
    return { status: statusOfCode(err.code), json: { error: err.message, code: err.code, ...(err.details ? { details: err.details } : {}) } };
  }
}

export interface ServiceControlRoutesOptions {
  /** Rediscovers the service directories (after a manual install or removal). */
  rescan?: (signal: AbortSignal) => Promise<ServiceRescanBody>;
}

export function serviceControlRoutes(services: ServiceControlPort & ServiceRegistryPort, options: ServiceControlRoutesOptions = {}): HttpRoute[] {
  const run = (action: ServiceControlAction, id: string, signal: AbortSignal): Promise<ServiceSnapshot> => {
    switch (action) {
      case 'start':
        return services.start(id, signal);
      case 'stop':
        return services.stop(id, signal);
      case 'restart':
        return services.restart(id, signal);
      case 'enable':
        return services.setEnabled(id, true, signal);
      case 'disable':
        return services.setEnabled(id, false, signal);
      default: {
        const never: never = action;
        return never;
      }
    }
  };

  const routes: HttpRoute[] = [
    { method: 'GET', path: '/api/services', handle: () => ({ status: 200, json: { services: services.list().map(serviceStateBody) } }) },
    {
      method: 'GET',
      path: '/api/services/:id',
      handle: ({ params }) => {
        const snapshot = services.get(params.id ?? '');
        return snapshot
          ? { status: 200, json: serviceStateBody(snapshot) }
          : { status: 404, json: { error: `no service "${params.id}" on this node`, code: 'SERVICE_NOT_FOUND' } };
      },
    },
    ...SERVICE_CONTROL_ACTIONS.map(
      (action): HttpRoute => ({
        method: 'POST',
        path: `/api/services/:id/${action}`,
        handle: ({ params, signal }) => answer(async () => ({ status: 200, json: serviceStateBody(await run(action, params.id ?? '', signal)) })),
      }),
    ),
  ];
  const { rescan } = options;
  if (rescan) {
    routes.unshift({ method: 'POST', path: '/api/services/rescan', handle: ({ signal }) => answer(async () => ({ status: 200, json: await rescan(signal) })) });
  }
  return routes;
}
