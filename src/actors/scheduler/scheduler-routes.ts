/**
 * The scheduler's HTTP paths besides the WebSocket upgrades: `/health` (PROTOCOL.md §1.1),
 * `/metrics` (Prometheus text), and the operator API under `/api/v1` (nodes, pools, drain). The
 * API reads the capability store, which every scheduler instance shares; when the store cannot be
 * read it answers from this instance's own nodes and says so (`source: "local"`).
 */
import { KernelError } from '../../kernel/errors.js';
import type { CapabilityStorePort, PoolVariant, StoredNode } from '../../kernel/ports/capability-store.port.js';
import type { HttpRoute } from '../../kernel/ports/http.port.js';
import type { SchedulerMetricsPort } from '../../kernel/ports/scheduler-metrics.port.js';
import type { NodeRegistry, NodeView } from './node-registry.js';

export interface SchedulerRoutesDeps {
  registry: NodeRegistry;
  store: CapabilityStorePort;
  metrics: SchedulerMetricsPort;
  /** Aborted when the scheduler stops. */
  signal: AbortSignal;
  /** What is degraded now (a fleet whose shared store is unreachable), said on `/health` in a header. */
  degraded?: () => string | undefined;
}

/** A node as the API shows it: its store record, or the local view when the store is unreachable. */
type ApiNode = Omit<StoredNode, 'owner' | 'registrationId' | 'version' | 'platform' | 'hardware'> & Partial<StoredNode>;

function fromView(view: NodeView): ApiNode {
  return {
    nodeId: view.nodeId,
    status: view.status,
    reason: view.reason,
    ...(view.epoch !== undefined ? { epoch: view.epoch } : {}),
    maxConcurrentJobs: view.maxConcurrentJobs,
    capabilities: view.capabilities,
    ...(view.load ? { load: view.load } : {}),
    pools: view.pools,
    registeredAt: view.registeredAt,
    ...(view.lastHeartbeatAt !== undefined ? { lastHeartbeatAt: view.lastHeartbeatAt } : {}),
  };
}

function variantParam(value: string | null): PoolVariant {
  if (value === null || value === 'speech') return 'speech';
  if (value === 'text') return 'text';
  throw new KernelError('INVALID_MESSAGE', 'pipeline must be "speech" (use_tts true) or "text" (use_tts false)', { details: { pipeline: value } });
}

export function schedulerRoutes(deps: SchedulerRoutesDeps): HttpRoute[] {
  const { registry, store, metrics, signal } = deps;

  const drainRoute = (cancel: boolean): HttpRoute => ({
    method: 'POST',
    path: `/api/v1/nodes/:id/${cancel ? 'undrain' : 'drain'}`,
    handle: (req) => {
      const id = req.params.id ?? '';
      if (!registry.drain(id, cancel)) throw new KernelError('NOT_FOUND', `node ${id} is not held by this scheduler`, { details: { nodeId: id } });
      return { status: 202, json: { nodeId: id, status: registry.node(id)?.status } };
    },
  });

  return [
    {
      method: 'GET',
      path: '/health',
      // §1.1: always `200 OK` (the instance serves what it holds); a degradation is said in a header.
      handle: () => {
        const degraded = deps.degraded?.();
        return { status: 200, text: 'OK', ...(degraded ? { headers: { 'x-linguamesh-degraded': degraded } } : {}) };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: async () => {
        const { contentType, body } = await metrics.render();
        return { status: 200, text: body, contentType };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/nodes',
      handle: async () => {
        try {
          return { status: 200, json: { source: 'store', nodes: await store.list(signal) } };
        } catch {
          return { status: 200, json: { source: 'local', nodes: registry.list().map(fromView) } };
        }
      },
    },
    {
      method: 'GET',
      path: '/api/v1/nodes/:id',
      handle: async (req) => {
        const id = req.params.id ?? '';
        let node: ApiNode | undefined;
        try {
          node = await store.get(id, signal);
        } catch {
          const view = registry.node(id);
          node = view ? fromView(view) : undefined;
        }
        if (!node) throw new KernelError('NOT_FOUND', `unknown node ${id}`, { details: { nodeId: id } });
        return { status: 200, json: node };
      },
    },
    drainRoute(false),
    drainRoute(true),
    {
      method: 'GET',
      path: '/api/v1/pools',
      handle: async (req) => {
        const pipeline = variantParam(req.query.get('pipeline'));
        try {
          return { status: 200, json: { source: 'store', pipeline, pools: await store.pools(pipeline, signal) } };
        } catch {
          const pools: Record<string, string[]> = {};
          for (const view of registry.list()) {
            for (const key of view.pools[pipeline]) (pools[key] ??= []).push(view.nodeId);
          }
          return { status: 200, json: { source: 'local', pipeline, pools } };
        }
      },
    },
  ];
}
