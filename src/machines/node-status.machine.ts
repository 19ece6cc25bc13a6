/**
 * The scheduler's status machine of one node (PROTOCOL.md §4.4, §4.5): registering → ready →
 * degraded → offline, plus draining. It is pure: the role logic decides whether a heartbeat is
 * accepted and healthy (§4.3) and sends the result; the machine counts, keeps the timers and emits
 * `node.statusChanged` on every transition.
 *
 * Two parallel regions: `status` holds the status and its counters; `liveness` holds the
 * heartbeat-timeout timer, which every accepted heartbeat restarts by re-entering `watching`.
 * Timers are delayed transitions with named delays read from context, so the injected clock (a
 * FakeClock in tests) drives them. `node.scan` applies the same timeout rules as a backstop.
 */
import { assign, emit, enqueueActions, raise, setup } from 'xstate';
import type { NodeStatus } from '../protocol/common.schema.js';

export interface NodeStatusOptions {
  /** Consecutive healthy heartbeats that take a registering node to ready (`health_check_count`). */
  healthCheckCount: number;
  /** Number of recent health results kept while ready (`failure_window`). */
  failureWindow: number;
  /** Unhealthy results within the window that degrade a ready node (`failure_count`). */
  failureCount: number;
  /** Consecutive unhealthy results that degrade a ready node (`consecutive_failures`). */
  consecutiveFailures: number;
  /** Time a node may stay registering before it is degraded, in ms (`warmup_timeout_ms`). */
  warmupTimeoutMs: number;
  /** Time without an accepted heartbeat before the node is offline, in ms (`heartbeat_timeout_ms`). */
  heartbeatTimeoutMs: number;
  /** Time an offline node is kept (listed, re-registrable) before `node.expired`, in ms. */
  offlineRetentionMs: number;
}

export interface NodeStatusInput {
  nodeId: string;
  /** Scheduler time of the accepted registration, ms. */
  registeredAt: number;
  options: NodeStatusOptions;
}

export interface NodeStatusContext {
  nodeId: string;
  options: NodeStatusOptions;
  /** Current status, mirrored for `from` in emitted events. `none` before the first entry. */
  status: NodeStatus | 'none';
  /** Reason of the transition being taken or last taken. */
  reason: string;
  /** In registering: healthy heartbeats in a row. */
  consecutiveHealthy: number;
  /** In ready: the last `failureWindow` results, oldest first (true = healthy). */
  recent: boolean[];
  /** In ready: unhealthy heartbeats in a row. */
  consecutiveUnhealthy: number;
  /** Health of the last accepted heartbeat in any status (draining uses it to leave). */
  lastHealthy: boolean | undefined;
  registeredAt: number;
  /** Scheduler time of the last accepted heartbeat, ms. */
  lastHeartbeatAt: number | undefined;
}

export type NodeStatusEvent =
  /** An accepted (valid, bound, not stale) heartbeat, with its health (§4.3). */
  | { type: 'node.heartbeat'; healthy: boolean; at: number }
  /** A new accepted `node_register` for this node: back to registering with empty counters (§4.1). */
  | { type: 'node.reregistered'; at: number }
  /** The connection of the current registration closed (§4.2). */
  | { type: 'node.connectionClosed' }
  | { type: 'node.drainRequested' }
  | { type: 'node.drainCancelled' }
  /** Backstop of the timers (`status_scan_interval_ms`, §4.5). */
  | { type: 'node.scan'; at: number }
  | { type: 'node.livenessLapsed' }
  | { type: 'node.wentOffline' }
  | { type: 'supervisor.shutdown' };

export type NodeStatusEmitted =
  | { type: 'node.statusChanged'; nodeId: string; from: NodeStatus | 'none'; to: NodeStatus; reason: string }
  /** The node stayed offline for `offlineRetentionMs`: its owner may forget it. */
  | { type: 'node.expired'; nodeId: string };

/** Reason of the (re-)entry into registering; the ack stands for it on the wire (§2.6). */
export const REGISTERED_REASON = 'registered';

export const nodeStatusMachine = setup({
  types: {} as { context: NodeStatusContext; events: NodeStatusEvent; input: NodeStatusInput; emitted: NodeStatusEmitted },
  delays: {
    warmupTimeout: ({ context }) => context.options.warmupTimeoutMs,
    heartbeatTimeout: ({ context }) => context.options.heartbeatTimeoutMs,
    offlineRetention: ({ context }) => context.options.offlineRetentionMs,
  },
  guards: {
    isHealthy: ({ event }) => event.type === 'node.heartbeat' && event.healthy,
    completesWarmup: ({ context, event }) =>
      event.type === 'node.heartbeat' && event.healthy && context.consecutiveHealthy + 1 >= context.options.healthCheckCount,
    tripsDegraded: ({ context, event }) => {
      if (event.type !== 'node.heartbeat' || event.healthy) return false;
      const recent = [...context.recent, false].slice(-context.options.failureWindow);
      const unhealthy = recent.filter((healthy) => !healthy).length;
      return unhealthy >= context.options.failureCount || context.consecutiveUnhealthy + 1 >= context.options.consecutiveFailures;
    },
    wasLastHealthy: ({ context }) => context.lastHealthy === true,
    isNotOffline: ({ context }) => context.status !== 'offline',
    livenessLapsedAt: ({ context, event }) =>
      event.type === 'node.scan' && context.status !== 'offline' && event.at - (context.lastHeartbeatAt ?? context.registeredAt) >= context.options.heartbeatTimeoutMs,
    warmupLapsedAt: ({ context, event }) => event.type === 'node.scan' && event.at - context.registeredAt >= context.options.warmupTimeoutMs,
  },
  actions: {
    because: assign((_, params: { reason: string }) => ({ reason: params.reason })),
    announce: enqueueActions(({ context, enqueue }, params: { to: NodeStatus }) => {
      enqueue.emit({ type: 'node.statusChanged', nodeId: context.nodeId, from: context.status, to: params.to, reason: context.reason });
      enqueue.assign({ status: params.to });
    }),
    resetWarmupCount: assign({ consecutiveHealthy: 0 }),
    countHealthy: assign(({ context }) => ({ consecutiveHealthy: context.consecutiveHealthy + 1 })),
    clearWindow: assign({ recent: [], consecutiveUnhealthy: 0 }),
    recordResult: assign(({ context, event }) => {
      if (event.type !== 'node.heartbeat') return {};
      return {
        recent: [...context.recent, event.healthy].slice(-context.options.failureWindow),
        consecutiveUnhealthy: event.healthy ? 0 : context.consecutiveUnhealthy + 1,
      };
    }),
    noteHeartbeat: assign(({ event }) => (event.type === 'node.heartbeat' ? { lastHealthy: event.healthy, lastHeartbeatAt: event.at } : {})),
    noteRegistration: assign(({ event }) =>
      event.type === 'node.reregistered' ? { registeredAt: event.at, lastHeartbeatAt: undefined, lastHealthy: undefined } : {},
    ),
    expire: emit(({ context }) => ({ type: 'node.expired' as const, nodeId: context.nodeId })),
  },
}).createMachine({
  id: 'nodeStatus',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    options: input.options,
    status: 'none',
    reason: REGISTERED_REASON,
    consecutiveHealthy: 0,
    recent: [],
    consecutiveUnhealthy: 0,
    lastHealthy: undefined,
    registeredAt: input.registeredAt,
    lastHeartbeatAt: undefined,
  }),
  initial: 'active',
  on: { 'supervisor.shutdown': { target: '.stopped' } },
  states: {
    active: {
      type: 'parallel',
      states: {
        status: {
          initial: 'registering',
          on: {
            'node.heartbeat': { actions: 'noteHeartbeat' },
            // §4.1: a new accepted registration restarts everything, from any status, offline included.
            'node.reregistered': {
              target: '.registering',
              reenter: true,
              actions: ['noteRegistration', { type: 'because', params: { reason: REGISTERED_REASON } }],
            },
            'node.connectionClosed': {
              guard: 'isNotOffline',
              target: '.offline',
              actions: { type: 'because', params: { reason: 'connection_closed' } },
            },
            'node.livenessLapsed': {
              guard: 'isNotOffline',
              target: '.offline',
              actions: { type: 'because', params: { reason: 'heartbeat_timeout' } },
            },
            'node.scan': {
              guard: 'livenessLapsedAt',
              target: '.offline',
              actions: { type: 'because', params: { reason: 'heartbeat_timeout' } },
            },
          },
          states: {
            registering: {
              entry: ['resetWarmupCount', { type: 'announce', params: { to: 'registering' } }],
              after: {
                warmupTimeout: { target: 'degraded', actions: { type: 'because', params: { reason: 'warmup_timeout' } } },
              },
              on: {
                'node.heartbeat': [
                  { guard: 'completesWarmup', target: 'ready', actions: ['noteHeartbeat', { type: 'because', params: { reason: 'healthy_heartbeats' } }] },
                  { guard: 'isHealthy', actions: ['noteHeartbeat', 'countHealthy'] },
                  { actions: ['noteHeartbeat', 'resetWarmupCount'] },
                ],
                'node.scan': [
                  { guard: 'livenessLapsedAt', target: 'offline', actions: { type: 'because', params: { reason: 'heartbeat_timeout' } } },
                  { guard: 'warmupLapsedAt', target: 'degraded', actions: { type: 'because', params: { reason: 'warmup_timeout' } } },
                ],
                'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
              },
            },
            ready: {
              entry: ['clearWindow', { type: 'announce', params: { to: 'ready' } }],
              on: {
                'node.heartbeat': [
                  { guard: 'tripsDegraded', target: 'degraded', actions: ['noteHeartbeat', { type: 'because', params: { reason: 'unhealthy_heartbeats' } }] },
                  { actions: ['noteHeartbeat', 'recordResult'] },
                ],
                'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
              },
            },
            degraded: {
              entry: { type: 'announce', params: { to: 'degraded' } },
              on: {
                'node.heartbeat': [
                  { guard: 'isHealthy', target: 'ready', actions: ['noteHeartbeat', { type: 'because', params: { reason: 'recovered' } }] },
                  { actions: 'noteHeartbeat' },
                ],
                'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
              },
            },
            draining: {
              // §4.4: a draining node's heartbeats update its capabilities but cause no health transitions.
              entry: { type: 'announce', params: { to: 'draining' } },
              on: {
                'node.drainCancelled': [
                  { guard: 'wasLastHealthy', target: 'ready', actions: { type: 'because', params: { reason: 'drain_cancelled' } } },
                  { target: 'degraded', actions: { type: 'because', params: { reason: 'drain_cancelled' } } },
                ],
              },
            },
            offline: {
              entry: [{ type: 'announce', params: { to: 'offline' } }, raise({ type: 'node.wentOffline' })],
              after: { offlineRetention: { actions: 'expire' } },
              // §4.4: heartbeats are ignored in offline; only a new registration leaves it.
              on: { 'node.heartbeat': {} },
            },
          },
        },
        liveness: {
          initial: 'watching',
          on: { 'node.reregistered': { target: '.watching', reenter: true } },
          states: {
            watching: {
              after: { heartbeatTimeout: { target: 'lapsed', actions: raise({ type: 'node.livenessLapsed' }) } },
              on: {
                'node.heartbeat': { guard: 'isNotOffline', target: 'watching', reenter: true },
                'node.wentOffline': { target: 'lapsed' },
              },
            },
            lapsed: {},
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});

/** The status a snapshot of `nodeStatusMachine` is in. */
export function nodeStatusOf(value: unknown): NodeStatus | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const active = (value as { active?: { status?: unknown } }).active;
  const status = active?.status;
  return typeof status === 'string' ? (status as NodeStatus) : undefined;
}
