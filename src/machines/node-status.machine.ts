/**
 * The scheduler's status machine of one node (PROTOCOL.md §4.4, §4.5): registering → ready →
 * degraded → offline, plus draining. It is pure: the role logic decides whether a heartbeat is
 * accepted and healthy (§4.3) and sends the result; the machine counts, keeps the timers and emits
 * `node.statusChanged` on every transition.
 *
 * Timers are the machine's own, with named delays read from context, so the injected clock (a
 * FakeClock in tests) drives them. The warm-up is a delayed transition of `registering`. The
 * liveness timeout is a delayed `node.livenessCheck` that carries the time it is due: when it
 * fires, either no heartbeat came since (deadline = due time: offline) or one did, and it is raised
 * again for exactly the time left to the new deadline. So a heartbeat only records its time, with
 * no timer to cancel and restart, and the node still goes offline at last heartbeat + timeout to
 * the millisecond. `node.scan` applies the same rules as a backstop.
 */
import { assign, cancel, emit, raise, setup } from 'xstate';
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
  /**
   * In ready: the last `failureWindow` (≤ 31) results as bits, newest in bit 0, 1 = unhealthy;
   * `recentCount` of them are filled. Numbers, not an array: heartbeats clone this context often.
   */
  recentUnhealthyBits: number;
  recentCount: number;
  /** In ready: unhealthy heartbeats in a row. */
  consecutiveUnhealthy: number;
  /** Health of the last accepted heartbeat in any status (draining uses it to leave). */
  lastHealthy: boolean | undefined;
  registeredAt: number;
  /** Scheduler time of the last accepted heartbeat, ms. */
  lastHeartbeatAt: number | undefined;
}

/** When the node goes offline without another heartbeat: last heartbeat (or registration) + timeout. */
function livenessDeadline(context: NodeStatusContext): number {
  return (context.lastHeartbeatAt ?? context.registeredAt) + context.options.heartbeatTimeoutMs;
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
  /** The liveness timer, raised by the machine itself; `dueAt` is the time it was set to fire. */
  | { type: 'node.livenessCheck'; dueAt: number }
  /** The scheduler is stopping: drop every timer and wait for `supervisor.shutdown`. */
  | { type: 'node.quiesce' }
  | { type: 'supervisor.shutdown' };

export type NodeStatusEmitted =
  | { type: 'node.statusChanged'; nodeId: string; from: NodeStatus | 'none'; to: NodeStatus; reason: string }
  /** The node stayed offline for `offlineRetentionMs`: its owner may forget it. */
  | { type: 'node.expired'; nodeId: string };

/** Reason of the (re-)entry into registering; the ack stands for it on the wire (§2.6). */
export const REGISTERED_REASON = 'registered';

/** Id of the delayed `node.livenessCheck`. */
const LIVENESS_TIMER = 'liveness';

/** Pushes one result (true = unhealthy) into a window of `size` bits, newest in bit 0. */
function windowed(bits: number, unhealthy: boolean, size: number): number {
  return ((bits << 1) | (unhealthy ? 1 : 0)) & ((1 << size) - 1);
}

/** Number of unhealthy results in a window. */
function unhealthyIn(bits: number): number {
  let count = 0;
  for (let b = bits; b !== 0; b &= b - 1) count++;
  return count;
}

const nodeStatusSetup = setup({
  types: {} as { context: NodeStatusContext; events: NodeStatusEvent; input: NodeStatusInput; emitted: NodeStatusEmitted },
  delays: {
    warmupTimeout: ({ context }) => context.options.warmupTimeoutMs,
    offlineRetention: ({ context }) => context.options.offlineRetentionMs,
    // "Now" is the registration when the timer is first set, and the due time when it fired early.
    untilLivenessDeadline: ({ context, event }) => livenessDeadline(context) - (event.type === 'node.livenessCheck' ? event.dueAt : context.registeredAt),
  },
  guards: {
    isHealthy: ({ event }) => event.type === 'node.heartbeat' && event.healthy,
    completesWarmup: ({ context, event }) =>
      event.type === 'node.heartbeat' && event.healthy && context.consecutiveHealthy + 1 >= context.options.healthCheckCount,
    tripsDegraded: ({ context, event }) => {
      if (event.type !== 'node.heartbeat' || event.healthy) return false;
      const bits = windowed(context.recentUnhealthyBits, true, context.options.failureWindow);
      return unhealthyIn(bits) >= context.options.failureCount || context.consecutiveUnhealthy + 1 >= context.options.consecutiveFailures;
    },
    wasLastHealthy: ({ context }) => context.lastHealthy === true,
    isNotOffline: ({ context }) => context.status !== 'offline',
    livenessLapsed: ({ context, event }) => event.type === 'node.livenessCheck' && context.status !== 'offline' && livenessDeadline(context) <= event.dueAt,
    livenessLapsedAt: ({ context, event }) =>
      event.type === 'node.scan' && context.status !== 'offline' && event.at - (context.lastHeartbeatAt ?? context.registeredAt) >= context.options.heartbeatTimeoutMs,
    warmupLapsedAt: ({ context, event }) => event.type === 'node.scan' && event.at - context.registeredAt >= context.options.warmupTimeoutMs,
  },
  actions: {
    because: assign((_, params: { reason: string }) => ({ reason: params.reason })),
    /**
     * Tells the machine's owner: emitted. An owner of thousands of machines may provide a function
     * instead (`machine.provide`): an `actor.on` listener costs each actor a set and a bound function.
     */
    report: emit((_, params: NodeStatusEmitted) => params),
    resetWarmupCount: assign({ consecutiveHealthy: 0 }),
    clearWindow: assign({ recentUnhealthyBits: 0, recentCount: 0, consecutiveUnhealthy: 0 }),
    /** One assign per heartbeat: its time and health, plus the tally of the status it arrives in. */
    beat: assign(({ context, event }, params: { tally: 'warmup' | 'window' | 'none' }) => {
      if (event.type !== 'node.heartbeat') return {};
      switch (params.tally) {
        case 'warmup':
          return { lastHealthy: event.healthy, lastHeartbeatAt: event.at, consecutiveHealthy: event.healthy ? context.consecutiveHealthy + 1 : 0 };
        case 'window':
          return {
            lastHealthy: event.healthy,
            lastHeartbeatAt: event.at,
            recentUnhealthyBits: windowed(context.recentUnhealthyBits, !event.healthy, context.options.failureWindow),
            recentCount: Math.min(context.recentCount + 1, context.options.failureWindow),
            consecutiveUnhealthy: event.healthy ? 0 : context.consecutiveUnhealthy + 1,
          };
        case 'none':
          return { lastHealthy: event.healthy, lastHeartbeatAt: event.at };
        default: {
          const never: never = params.tally;
          return never;
        }
      }
    }),
    noteRegistration: assign(({ event }) =>
      event.type === 'node.reregistered' ? { registeredAt: event.at, lastHeartbeatAt: undefined, lastHealthy: undefined } : {},
    ),
    disarmLiveness: cancel(LIVENESS_TIMER),
    armLiveness: raise(({ context }) => ({ type: 'node.livenessCheck' as const, dueAt: livenessDeadline(context) }), { id: LIVENESS_TIMER, delay: 'untilLivenessDeadline' }),
  },
});

/** Entry action of status `to`: reports `node.statusChanged` (from the status left) and records `to`. */
function announce(to: NodeStatus) {
  return nodeStatusSetup.enqueueActions(({ context, enqueue }) => {
    enqueue({ type: 'report', params: { type: 'node.statusChanged', nodeId: context.nodeId, from: context.status, to, reason: context.reason } });
    enqueue.assign({ status: to });
  });
}

const expire = nodeStatusSetup.enqueueActions(({ context, enqueue }) => enqueue({ type: 'report', params: { type: 'node.expired', nodeId: context.nodeId } }));

export const nodeStatusMachine = nodeStatusSetup.createMachine({
  id: 'nodeStatus',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    options: input.options,
    status: 'none',
    reason: REGISTERED_REASON,
    consecutiveHealthy: 0,
    recentUnhealthyBits: 0,
    recentCount: 0,
    consecutiveUnhealthy: 0,
    lastHealthy: undefined,
    registeredAt: input.registeredAt,
    lastHeartbeatAt: undefined,
  }),
  initial: 'registering',
  on: {
    // Any status but offline (which ignores it): note the heartbeat; its time moves the deadline.
    'node.heartbeat': { actions: { type: 'beat', params: { tally: 'none' } } },
    // §4.1: a new accepted registration restarts everything, from any status, offline included.
    'node.reregistered': { target: '.registering', reenter: true, actions: ['noteRegistration', { type: 'because', params: { reason: REGISTERED_REASON } }] },
    'node.connectionClosed': { guard: 'isNotOffline', target: '.offline', actions: { type: 'because', params: { reason: 'connection_closed' } } },
    'node.livenessCheck': [
      { guard: 'livenessLapsed', target: '.offline', actions: { type: 'because', params: { reason: 'heartbeat_timeout' } } },
      { guard: 'isNotOffline', actions: 'armLiveness' },
    ],
    'node.scan': { guard: 'livenessLapsedAt', target: '.offline', actions: { type: 'because', params: { reason: 'heartbeat_timeout' } } },
    'node.quiesce': { target: '.quiescent' },
    'supervisor.shutdown': { target: '.stopped' },
  },
  states: {
    registering: {
      entry: ['resetWarmupCount', announce('registering'), 'disarmLiveness', 'armLiveness'],
      after: {
        warmupTimeout: { target: 'degraded', actions: { type: 'because', params: { reason: 'warmup_timeout' } } },
      },
      on: {
        'node.heartbeat': [
          {
            guard: 'completesWarmup',
            target: 'ready',
            actions: [{ type: 'beat', params: { tally: 'none' } }, { type: 'because', params: { reason: 'healthy_heartbeats' } }],
          },
          { actions: { type: 'beat', params: { tally: 'warmup' } } },
        ],
        'node.scan': [
          { guard: 'livenessLapsedAt', target: 'offline', actions: { type: 'because', params: { reason: 'heartbeat_timeout' } } },
          { guard: 'warmupLapsedAt', target: 'degraded', actions: { type: 'because', params: { reason: 'warmup_timeout' } } },
        ],
        'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
      },
    },
    ready: {
      entry: ['clearWindow', announce('ready')],
      on: {
        'node.heartbeat': [
          {
            guard: 'tripsDegraded',
            target: 'degraded',
            actions: [{ type: 'beat', params: { tally: 'none' } }, { type: 'because', params: { reason: 'unhealthy_heartbeats' } }],
          },
          { actions: { type: 'beat', params: { tally: 'window' } } },
        ],
        'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
      },
    },
    degraded: {
      entry: announce('degraded'),
      on: {
        'node.heartbeat': [
          {
            guard: 'isHealthy',
            target: 'ready',
            actions: [{ type: 'beat', params: { tally: 'none' } }, { type: 'because', params: { reason: 'recovered' } }],
          },
          { actions: { type: 'beat', params: { tally: 'none' } } },
        ],
        'node.drainRequested': { target: 'draining', actions: { type: 'because', params: { reason: 'drain_requested' } } },
      },
    },
    draining: {
      // §4.4: a draining node's heartbeats update its capabilities but cause no health transitions.
      entry: announce('draining'),
      on: {
        'node.drainCancelled': [
          { guard: 'wasLastHealthy', target: 'ready', actions: { type: 'because', params: { reason: 'drain_cancelled' } } },
          { target: 'degraded', actions: { type: 'because', params: { reason: 'drain_cancelled' } } },
        ],
      },
    },
    offline: {
      entry: [announce('offline'), 'disarmLiveness'],
      after: { offlineRetention: { actions: expire } },
      // §4.4: heartbeats are ignored in offline; only a new registration leaves it.
      on: { 'node.heartbeat': {} },
    },
    // Leaving any status cancels its delayed transitions; the liveness timer is cancelled here.
    quiescent: {
      entry: 'disarmLiveness',
      on: {
        'node.heartbeat': {},
        'node.reregistered': {},
        'node.connectionClosed': {},
        'node.livenessCheck': {},
        'node.scan': {},
        'node.drainRequested': {},
        'node.drainCancelled': {},
      },
    },
    stopped: { type: 'final', entry: 'disarmLiveness' },
  },
});

/** The status a snapshot of `nodeStatusMachine` is in (undefined once quiescent or stopped). */
export function nodeStatusOf(value: unknown): NodeStatus | undefined {
  return typeof value === 'string' && value !== 'stopped' && value !== 'quiescent' ? (value as NodeStatus) : undefined;
}
