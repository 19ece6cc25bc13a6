/**
 * `GET /api/v1/dispatch`: what the dispatcher holds now — jobs waiting for a node, jobs in flight,
 * slots reserved per node — and the sessions open on this instance. For operators, and for tests
 * that prove no slot outlives its job.
 */
import type { HttpRoute } from '../../kernel/ports/http.port.js';
import type { Dispatcher } from './dispatcher.js';
import type { Sessions } from './sessions.actor.js';

export function dispatchRoutes(deps: { dispatcher: Dispatcher; sessions: Sessions }): HttpRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/dispatch',
      handle: async () => ({ status: 200, json: { sessions: deps.sessions.openCount(), jobs: await deps.dispatcher.status() } }),
    },
  ];
}
