/**
 * When the node sends heartbeats (PROTOCOL.md §3.2). The machine follows the link through bus
 * events and emits `heartbeat.due` with its trigger; the heartbeat actor builds and sends the
 * message. Three triggers:
 * - `ack`: exactly one at once after every `node_register_ack`;
 * - `periodic`: every `intervalMs` on a timer started when the socket opens; ticks before the ack
 *   are skipped. An ack whose `heartbeat_interval_ms` differs restarts the timer with that value;
 * - `debounced`: one, `debounceMs` after the last of a burst of local changes (the
 *   `heartbeatDebounce` child), only while registered with an open socket.
 */
import { assign, emit, fromCallback, setup } from 'xstate';
import type { BusEventOf } from '../kernel/bus-events.js';
import { ActorNotProvidedError } from '../kernel/errors.js';
import { heartbeatDebounceMachine } from './heartbeat-debounce.machine.js';
import type { HeartbeatDebounceFired } from './heartbeat-debounce.machine.js';
import type { HeartbeatOptions } from './heartbeat.defaults.js';

export type HeartbeatTrigger = 'ack' | 'periodic' | 'debounced';

export interface HeartbeatInput {
  options: HeartbeatOptions;
}

export interface HeartbeatContext {
  options: HeartbeatOptions;
  /** Interval in force on this connection, in ms. */
  intervalMs: number;
  nodeId: string | undefined;
}

export type HeartbeatEvent =
  | BusEventOf<'link.connected'>
  | BusEventOf<'link.registered'>
  | BusEventOf<'link.disconnected'>
  /** A local service or package changed (service.statusChanged, package.installed/uninstalled). */
  | { type: 'heartbeat.changed' }
  | HeartbeatDebounceFired
  | { type: 'heartbeat.tick' }
  | { type: 'supervisor.shutdown' };

export type HeartbeatEmitted = { type: 'heartbeat.due'; trigger: HeartbeatTrigger; nodeId: string };

const heartbeatSetup = setup({
  types: {} as { context: HeartbeatContext; events: HeartbeatEvent; input: HeartbeatInput; emitted: HeartbeatEmitted },
  actors: {
    /** Bus events the machine follows: `link.connected|registered|disconnected`, `heartbeat.changed`. */
    commands: fromCallback(() => {
      throw new ActorNotProvidedError('commands');
    }),
    debounce: heartbeatDebounceMachine,
  },
  delays: { interval: ({ context }) => context.intervalMs },
  actions: {
    due: emit(({ context }, params: { trigger: HeartbeatTrigger }) => ({ type: 'heartbeat.due' as const, trigger: params.trigger, nodeId: context.nodeId ?? '' })),
  },
});

export const heartbeatMachine = heartbeatSetup.createMachine({
  id: 'heartbeat',
  context: ({ input }) => ({ options: input.options, intervalMs: input.options.intervalMs, nodeId: undefined }),
  invoke: [
    { id: 'commands', src: 'commands' },
    { id: 'debounce', src: 'debounce', input: ({ context }) => ({ debounceMs: context.options.debounceMs }) },
  ],
  on: {
    'heartbeat.changed': { actions: heartbeatSetup.sendTo('debounce', { type: 'debounce.changed' }) },
    'supervisor.shutdown': '.stopped',
  },
  initial: 'offline',
  states: {
    offline: {
      on: { 'link.connected': 'connected' },
    },
    connected: {
      type: 'parallel',
      // Each new connection starts from the configured interval; its ack may change it.
      entry: assign({ intervalMs: ({ context }) => context.options.intervalMs, nodeId: undefined }),
      on: {
        'link.disconnected': 'offline',
        'link.connected': { target: 'connected', reenter: true },
      },
      states: {
        session: {
          initial: 'awaitingAck',
          states: {
            awaitingAck: {
              on: {
                'link.registered': {
                  target: 'registered',
                  actions: [
                    assign({
                      nodeId: ({ event }) => event.nodeId,
                      intervalMs: ({ context, event }) => event.heartbeatIntervalMs ?? context.intervalMs,
                    }),
                    { type: 'due', params: { trigger: 'ack' } },
                  ],
                },
              },
            },
            registered: {
              on: {
                'heartbeat.tick': { actions: { type: 'due', params: { trigger: 'periodic' } } },
                'debounce.fired': { actions: { type: 'due', params: { trigger: 'debounced' } } },
                // A re-registration on the same socket: one heartbeat at once again.
                'link.registered': {
                  actions: [
                    assign({ nodeId: ({ event }) => event.nodeId, intervalMs: ({ context, event }) => event.heartbeatIntervalMs ?? context.intervalMs }),
                    { type: 'due', params: { trigger: 'ack' } },
                  ],
                },
              },
            },
          },
        },
        ticker: {
          initial: 'ticking',
          states: {
            ticking: {
              on: {
                // The ack's interval replaces the configured one: restart the timer with it.
                'link.registered': {
                  guard: ({ context, event }) => event.heartbeatIntervalMs !== undefined && event.heartbeatIntervalMs !== context.intervalMs,
                  target: 'ticking',
                  reenter: true,
                },
              },
              after: { interval: { target: 'ticking', reenter: true, actions: heartbeatSetup.raise({ type: 'heartbeat.tick' }) } },
            },
          },
        },
      },
    },
    stopped: { type: 'final' },
  },
});
