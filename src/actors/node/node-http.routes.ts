/**
 * The node's own loopback endpoint (health, status, metrics, link control), as route data for the
 * HTTP adapter. Other node features add their routes next to these (`startNode` `services.routes`).
 */
import type { Bus } from '../../kernel/bus.js';
import type { HttpRoute } from '../../kernel/ports/http.port.js';
import type { NodeMetrics } from './node-metrics.js';
import type { NodeStatusTracker } from './node-status.js';

export interface NodeRoutesOptions {
  bus: Bus;
  status: NodeStatusTracker;
  metrics: NodeMetrics;
}

export function nodeRoutes(options: NodeRoutesOptions): HttpRoute[] {
  return [
    { method: 'GET', path: '/health', handle: () => ({ status: 200, text: 'OK' }) },
    { method: 'GET', path: '/status', handle: () => ({ status: 200, json: options.status.report() }) },
    {
      method: 'GET',
      path: '/metrics',
      handle: async () => {
        const { text, contentType } = await options.metrics.render();
        return { status: 200, text, contentType };
      },
    },
    {
      // PROTOCOL.md §3.1 step 4: after NO_GPU_AVAILABLE / INVALID_CAPABILITY_SCHEMA the node registers
      // again only when its operator asks. While reconnecting, it skips the rest of the backoff wait.
      method: 'POST',
      path: '/api/v1/link/retry',
      handle: () => {
        options.bus.publish({ type: 'link.retryRequested', source: 'http' });
        return { status: 202, json: { accepted: true, link: options.status.report().link } };
      },
    },
  ];
}
