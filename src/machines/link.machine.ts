/**
 * The node's link to the scheduler (PROTOCOL.md §3.1): connect, register, mirror the scheduler's
 * `node_status`, and reconnect on the backoff schedule.
 *
 * ```
 * loading ─► connection ──────────────► reconnecting ─(next URL: at once in a round, else backoff)─► connection
 *            ├ session:   connecting → registering → registered.{registering,ready,degraded,draining}
 *            ├ liveness:  no frame for link_dead_ms → terminate, reconnect (§1.3)
 *            └ keepalive: ping every ws_ping_interval_ms
 *            NO_GPU_AVAILABLE / INVALID_CAPABILITY_SCHEMA ─► rejected ─(operator retry)─► connection
 * ```
 *
 * The socket is the invoked `socket` actor (a `SchedulerLinkPort` connection in production); it
 * lives exactly as long as the `connection` state and connects to the URL the machine picks.
 * `commands` delivers requests from the rest of the node (`link.send`, `link.retry`). The machine
 * does no I/O: every effect is a command to `socket` or an emitted event that the link actor
 * forwards to the bus.
 *
 * Several schedulers (a fleet): the node has a list of URLs and connects to one at a time. Every
 * way a connection ends but a shutdown or a final rejection (connect failed, closed, link dead,
 * `offline`, a retryable rejection) moves to the next URL, round robin. A round is one attempt at
 * each URL: moves inside a round go at once, spread over at most `reconnectJitter·reconnectMinMs`
 * (1 s by default) so that the nodes of a lost scheduler do not all arrive in the same instant;
 * when a whole round has failed the node waits the §3.1 backoff, n being the number of failed
 * rounds. With one URL a round is one attempt, which is §3.1 exactly. The ack ends the round and
 * the backoff: the node stays on the URL that works. A final rejection keeps the URL: the
 * operator's retry goes to the same scheduler.
 */
import { assign, emit, enqueueActions, fromCallback, fromPromise, raise, sendTo, setup } from 'xstate';
import { backoffDelayMs } from '../kernel/backoff.js';
import type { BusEventOf, LinkDisconnectCause, OutboundLinkMessage } from '../kernel/bus-events.js';
import { ActorNotProvidedError } from '../kernel/errors.js';
import type { NodeStatus } from '../protocol/common.schema.js';
import type { NodeRegister, NodeToSchedulerMessage, SchedulerToNodeMessage } from '../protocol/node-link.schema.js';
import type { LinkOptions } from './link.defaults.js';

export interface LinkInput {
  options: LinkOptions;
  /** The schedulers' node link URLs, tried in this order (at least one). */
  schedulerUrls: readonly string[];
  /** Random source of the reconnect jitter, in [0, 1). */
  random?: () => number;
}

/** Registration rejections after which the node does not retry on its own (§3.1 step 4). */
export const NON_RETRYABLE_REJECTIONS: readonly string[] = ['NO_GPU_AVAILABLE', 'INVALID_CAPABILITY_SCHEMA'];

/** The link's state as the rest of the node and the operator see it. */
export type LinkStateName = 'connecting' | 'registering' | 'registered' | 'reconnecting' | 'rejected' | 'stopped';

export interface LinkRejection {
  code: string;
  message: string;
  /** Whether the link goes on retrying on its own. */
  retrying: boolean;
}

export interface LinkContext {
  options: LinkOptions;
  random: () => number;
  /** The id assigned by the scheduler (or loaded from the node's state directory), re-sent on every registration. */
  nodeId: string | undefined;
  /** The schedulers' node link URLs, in failover order. */
  schedulerUrls: readonly string[];
  /** Index in `schedulerUrls` of the URL of the current (or next) attempt. */
  urlIndex: number;
  /** Failed attempts in the current round (one attempt per URL) since the last ack or the last full round. */
  roundFailures: number;
  /** Consecutive failed rounds since the last ack: n of §3.1 step 6 (with one URL, failed attempts). */
  failures: number;
  /** The wait of the current `reconnecting` state, in ms. */
  retryDelayMs: number;
  schedulerStatus: NodeStatus | undefined;
  schedulerReason: string | undefined;
  /** The scheduler's heartbeat interval from the last ack, in ms. */
  heartbeatIntervalMs: number | undefined;
  lastRejection: LinkRejection | undefined;
  lastDisconnect: { cause: LinkDisconnectCause; code?: number; reason?: string } | undefined;
}

/** Commands the machine gives its socket. */
export type SocketCommand = { type: 'socket.send'; message: NodeToSchedulerMessage } | { type: 'socket.ping' } | { type: 'socket.terminate' };

export type LinkEvent =
  // from the socket
  | { type: 'link.opened' }
  | { type: 'link.activity' }
  | { type: 'link.message'; message: SchedulerToNodeMessage }
  | { type: 'link.closed'; code: number; reason: string; errorCode?: string }
  // from the rest of the node
  | { type: 'link.send'; message: OutboundLinkMessage }
  | { type: 'link.retry' }
  | { type: 'supervisor.shutdown' }
  // internal
  | { type: 'link.dead' };

export type LinkEmitted =
  | BusEventOf<'link.stateChanged'>
  | BusEventOf<'link.connected'>
  | BusEventOf<'link.registered'>
  | BusEventOf<'link.disconnected'>
  | BusEventOf<'link.reconnectScheduled'>
  | BusEventOf<'link.rejected'>
  | BusEventOf<'link.nodeError'>
  | BusEventOf<'link.jobAssigned'>
  | BusEventOf<'link.jobCancelled'>
  | BusEventOf<'link.control'>
  | BusEventOf<'link.sendDropped'>;

type RejectionMessage = Extract<SchedulerToNodeMessage, { type: 'node_error' | 'error' }>;

function isRejection(message: SchedulerToNodeMessage): message is RejectionMessage {
  return message.type === 'node_error' || message.type === 'error';
}

const isRetryableRejection = (message: RejectionMessage) => !NON_RETRYABLE_REJECTIONS.includes(message.code);

/** The URL of the current (or next) attempt. */
export function schedulerUrlOf(context: Pick<LinkContext, 'schedulerUrls' | 'urlIndex'>): string {
  return context.schedulerUrls[context.urlIndex] ?? '';
}

/**
 * Where and when the next attempt goes after an attempt failed or a link was lost: the next URL;
 * at once (within the spread) while the round has URLs left, after the §3.1 backoff once it has none.
 */
export function nextAttempt(context: LinkContext): Pick<LinkContext, 'urlIndex' | 'roundFailures' | 'failures' | 'retryDelayMs'> {
  const { options } = context;
  const urlIndex = (context.urlIndex + 1) % context.schedulerUrls.length;
  const roundFailures = context.roundFailures + 1;
  if (roundFailures < context.schedulerUrls.length) {
    return { urlIndex, roundFailures, failures: context.failures, retryDelayMs: Math.floor(context.random() * options.reconnectJitter * options.reconnectMinMs) };
  }
  return {
    urlIndex,
    roundFailures: 0,
    failures: context.failures + 1,
    retryDelayMs: backoffDelayMs(context.failures, { minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs, jitter: options.reconnectJitter }, context.random),
  };
}

function stateChanged(context: LinkContext, state: LinkStateName): BusEventOf<'link.stateChanged'> {
  return {
    type: 'link.stateChanged',
    state,
    schedulerUrl: schedulerUrlOf(context),
    ...(context.nodeId !== undefined ? { nodeId: context.nodeId } : {}),
    ...(state === 'registered' && context.schedulerStatus ? { schedulerStatus: context.schedulerStatus } : {}),
    ...(state === 'registered' && context.schedulerReason ? { schedulerReason: context.schedulerReason } : {}),
    ...((state === 'rejected' || state === 'reconnecting') && context.lastRejection && context.lastDisconnect?.cause === 'rejected' ? { errorCode: context.lastRejection.code } : {}),
  };
}

const linkSetup = setup({
  types: {} as { context: LinkContext; events: LinkEvent; input: LinkInput; emitted: LinkEmitted },
  actors: {
    /** The persisted node_id, if any. */
    loadNodeId: fromPromise<string | undefined>(async () => {
      throw new ActorNotProvidedError('loadNodeId');
    }),
    /** The full `node_register` for this attempt (hardware probe + capability report). */
    buildRegistration: fromPromise<NodeRegister, { nodeId: string | undefined }>(async () => {
      throw new ActorNotProvidedError('buildRegistration');
    }),
    /** One WebSocket connection to `url`; reports `link.opened|activity|message|closed`, obeys SocketCommand. */
    socket: fromCallback<SocketCommand, { url: string }>(() => {
      throw new ActorNotProvidedError('socket');
    }),
    /** Requests from the rest of the node: `link.send`, `link.retry`. */
    commands: fromCallback(() => {
      throw new ActorNotProvidedError('commands');
    }),
  },
  delays: {
    pingInterval: ({ context }) => context.options.wsPingIntervalMs,
    linkDead: ({ context }) => context.options.linkDeadMs,
    retryDelay: ({ context }) => context.retryDelayMs,
  },
  actions: {
    announce: emit((_, params: { event: LinkEmitted }) => params.event),
    /** Records why the connection ends and tells the node; the socket actor stops with the state. */
    leave: enqueueActions(({ enqueue }, params: { cause: LinkDisconnectCause; code?: number; reason?: string }) => {
      const { cause, code, reason } = params;
      enqueue.assign({ lastDisconnect: { cause, ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) } });
      enqueue.emit({ type: 'link.disconnected', cause, ...(code !== undefined ? { code } : {}), ...(reason !== undefined ? { reason } : {}) });
    }),
    dropSend: emit(({ event }) => {
      const messageType: string = event.type === 'link.send' ? event.message.type : 'unknown';
      return { type: 'link.sendDropped' as const, messageType, reason: messageType === 'node_register' ? ('reserved' as const) : ('not_registered' as const) };
    }),
  },
});

const announceState = (state: LinkStateName) =>
  linkSetup.emit(({ context }) => stateChanged(context, state));

/** Entering one of the `registered` sub-states: the scheduler's `node_status` (the ack stands for `registering`, §2.6). */
const mirrorStatus = (status: Exclude<NodeStatus, 'offline'>) => ({
  target: `#link.connection.session.registered.${status}` as const,
  guard: ({ event }: { event: LinkEvent }) => event.type === 'link.message' && event.message.type === 'node_status' && event.message.status === status,
  actions: linkSetup.assign({
    schedulerStatus: status,
    schedulerReason: ({ event }) => (event.type === 'link.message' && event.message.type === 'node_status' ? (event.message.reason ?? undefined) : undefined),
  }),
});

export const linkMachine = linkSetup.createMachine({
  id: 'link',
  context: ({ input }) => ({
    options: input.options,
    random: input.random ?? Math.random,
    nodeId: undefined,
    schedulerUrls: input.schedulerUrls,
    urlIndex: 0,
    roundFailures: 0,
    failures: 0,
    retryDelayMs: 0,
    schedulerStatus: undefined,
    schedulerReason: undefined,
    heartbeatIntervalMs: undefined,
    lastRejection: undefined,
    lastDisconnect: undefined,
  }),
  invoke: { id: 'commands', src: 'commands' },
  initial: 'loading',
  on: {
    // Before the ack nothing but `node_register` may reach the scheduler (§3.1 step 2).
    'link.send': { actions: 'dropSend' },
    'supervisor.shutdown': '.stopped',
  },
  states: {
    loading: {
      entry: announceState('connecting'),
      invoke: {
        src: 'loadNodeId',
        onDone: { target: 'connection', actions: assign({ nodeId: ({ event }) => event.output }) },
        // An unreadable state file is the same as none: the scheduler assigns a new id.
        onError: { target: 'connection' },
      },
    },
    connection: {
      type: 'parallel',
      invoke: { id: 'socket', src: 'socket', input: ({ context }) => ({ url: schedulerUrlOf(context) }) },
      on: {
        'link.closed': {
          target: 'reconnecting',
          actions: { type: 'leave', params: ({ event }) => ({ cause: 'closed' as const, code: event.code, reason: event.reason }) },
        },
        'link.dead': { target: 'reconnecting', actions: { type: 'leave', params: { cause: 'link_dead' } } },
        'supervisor.shutdown': { target: 'stopped', actions: { type: 'leave', params: { cause: 'shutdown' } } },
      },
      states: {
        session: {
          initial: 'connecting',
          states: {
            connecting: {
              entry: announceState('connecting'),
              on: { 'link.opened': { target: 'registering', actions: emit(({ context }) => ({ type: 'link.connected' as const, schedulerUrl: schedulerUrlOf(context) })) } },
            },
            registering: {
              entry: announceState('registering'),
              invoke: {
                src: 'buildRegistration',
                input: ({ context }) => ({ nodeId: context.nodeId }),
                onDone: { actions: sendTo('socket', ({ event }) => ({ type: 'socket.send' as const, message: event.output })) },
                onError: { target: '#link.reconnecting', actions: { type: 'leave', params: { cause: 'registration_failed' } } },
              },
              on: {
                'link.message': [
                  {
                    guard: ({ event }) => event.message.type === 'node_register_ack',
                    target: 'registered',
                    actions: assign(({ event }) => {
                      const ack = event.message as Extract<SchedulerToNodeMessage, { type: 'node_register_ack' }>;
                      // §3.1 step 3: the ack, and only the ack, resets the backoff (and the round of URLs).
                      return {
                        nodeId: ack.node_id,
                        failures: 0,
                        roundFailures: 0,
                        schedulerStatus: 'registering' as const,
                        schedulerReason: undefined,
                        heartbeatIntervalMs: ack.heartbeat_interval_ms !== undefined && ack.heartbeat_interval_ms > 0 ? ack.heartbeat_interval_ms : undefined,
                      };
                    }),
                  },
                  {
                    guard: ({ event }) => isRejection(event.message) && isRetryableRejection(event.message),
                    target: '#link.reconnecting',
                    actions: [
                      assign({ lastRejection: ({ event }) => rejectionOf(event.message as RejectionMessage, true) }),
                      { type: 'announce', params: ({ event }) => ({ event: { type: 'link.rejected' as const, ...rejectionOf(event.message as RejectionMessage, true) } }) },
                      { type: 'leave', params: { cause: 'rejected' } },
                    ],
                  },
                  {
                    guard: ({ event }) => isRejection(event.message),
                    target: '#link.rejected',
                    actions: [
                      assign({ lastRejection: ({ event }) => rejectionOf(event.message as RejectionMessage, false) }),
                      { type: 'announce', params: ({ event }) => ({ event: { type: 'link.rejected' as const, ...rejectionOf(event.message as RejectionMessage, false) } }) },
                      { type: 'leave', params: { cause: 'rejected' } },
                    ],
                  },
                  // job_assign before the ack is ignored without reply (§3.1 step 8); so is anything else.
                ],
              },
            },
            registered: {
              entry: emit(({ context }) => ({
                type: 'link.registered' as const,
                nodeId: context.nodeId ?? '',
                schedulerUrl: schedulerUrlOf(context),
                ...(context.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: context.heartbeatIntervalMs } : {}),
              })),
              initial: 'registering',
              states: {
                registering: { entry: announceState('registered') },
                ready: { entry: announceState('registered') },
                degraded: { entry: announceState('registered') },
                draining: { entry: announceState('registered') },
              },
              on: {
                'link.send': {
                  guard: ({ event }) => (event.message.type as string) !== 'node_register',
                  actions: sendTo('socket', ({ event }) => ({ type: 'socket.send' as const, message: event.message })),
                },
                'link.message': [
                  // §3.1 step 7: offline → close and reconnect (which re-registers).
                  {
                    guard: ({ event }) => event.message.type === 'node_status' && event.message.status === 'offline',
                    target: '#link.reconnecting',
                    actions: [
                      assign({ schedulerStatus: 'offline', schedulerReason: ({ event }) => (event.message.type === 'node_status' ? (event.message.reason ?? undefined) : undefined) }),
                      { type: 'leave', params: ({ event }) => ({ cause: 'offline' as const, ...(event.message.type === 'node_status' && event.message.reason ? { reason: event.message.reason } : {}) }) },
                    ],
                  },
                  mirrorStatus('registering'),
                  mirrorStatus('ready'),
                  mirrorStatus('degraded'),
                  mirrorStatus('draining'),
                  {
                    guard: ({ event }) => event.message.type === 'job_assign',
                    actions: { type: 'announce', params: ({ event }) => ({ event: { type: 'link.jobAssigned' as const, message: event.message as Extract<SchedulerToNodeMessage, { type: 'job_assign' }> } }) },
                  },
                  {
                    guard: ({ event }) => event.message.type === 'job_cancel',
                    actions: { type: 'announce', params: ({ event }) => ({ event: { type: 'link.jobCancelled' as const, message: event.message as Extract<SchedulerToNodeMessage, { type: 'job_cancel' }> } }) },
                  },
                  {
                    guard: ({ event }) => event.message.type === 'node_control',
                    actions: { type: 'announce', params: ({ event }) => ({ event: { type: 'link.control' as const, message: event.message as Extract<SchedulerToNodeMessage, { type: 'node_control' }> } }) },
                  },
                  // §2.4: an error after the ack is informational only.
                  {
                    guard: ({ event }) => isRejection(event.message),
                    actions: {
                      type: 'announce',
                      params: ({ event }) => {
                        const error = event.message as RejectionMessage;
                        return { event: { type: 'link.nodeError' as const, code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
                      },
                    },
                  },
                ],
              },
            },
          },
        },
        liveness: {
          initial: 'watching',
          states: {
            watching: {
              on: { 'link.activity': { target: 'watching', reenter: true } },
              after: { linkDead: { target: 'expired', actions: sendTo('socket', { type: 'socket.terminate' }) } },
            },
            // Two steps, so the terminate command reaches the socket before leaving `connection` stops it.
            expired: { entry: raise({ type: 'link.dead' }) },
          },
        },
        keepalive: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { pingInterval: { target: 'waiting', reenter: true, actions: sendTo('socket', { type: 'socket.ping' }) } },
            },
          },
        },
      },
    },
    reconnecting: {
      // §3.1 step 6 is normative: the n-th consecutive failure waits uniformly in [d, 1.2·d],
      // d = min(60 000, 5 000·2ⁿ). §12 item 14 prints the windows as [0.8·d, d] ([4 000, 5 000], …);
      // we follow §3.1 (waits in [5 000, 6 000], [10 000, 12 000], …). With several URLs, n counts
      // failed rounds and the moves inside a round go at once (see `nextAttempt`).
      entry: [
        assign(({ context }) => nextAttempt(context)),
        emit(({ context }) => ({
          type: 'link.reconnectScheduled' as const,
          attempt: context.failures,
          delayMs: context.retryDelayMs,
          schedulerUrl: schedulerUrlOf(context),
          failover: context.roundFailures > 0,
        })),
        announceState('reconnecting'),
      ],
      after: { retryDelay: 'connection' },
      // An operator's retry skips the rest of the wait (the backoff counter is kept).
      on: { 'link.retry': 'connection' },
    },
    rejected: {
      entry: announceState('rejected'),
      // §3.1 step 4: register again only on an explicit operator request (or a configuration change).
      on: { 'link.retry': 'connection' },
    },
    stopped: {
      type: 'final',
      entry: announceState('stopped'),
    },
  },
});

function rejectionOf(message: RejectionMessage, retrying: boolean): LinkRejection {
  return { code: message.code, message: message.message, retrying };
}

/** The operator's name for a snapshot of the link machine. */
export function linkStateOf(snapshot: { matches(value: unknown): boolean; status: string }): LinkStateName {
  if (snapshot.status === 'done' || snapshot.matches('stopped')) return 'stopped';
  if (snapshot.matches('reconnecting')) return 'reconnecting';
  if (snapshot.matches('rejected')) return 'rejected';
  if (snapshot.matches({ connection: { session: 'registered' } })) return 'registered';
  if (snapshot.matches({ connection: { session: 'registering' } })) return 'registering';
  return 'connecting';
}
