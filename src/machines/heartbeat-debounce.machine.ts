/**
 * Trailing debounce of local service changes (PROTOCOL.md §3.2 "On change"): every
 * `debounce.changed` (re)starts a wait of `debounceMs`; when a wait runs out with no further change,
 * the parent receives one `debounce.fired` carrying how many changes the burst had. A burst of any
 * length therefore yields exactly one heartbeat, `debounceMs` after its last change.
 *
 * The debouncer only decides *when*; whether a heartbeat can go out (registered, socket open) is
 * the parent's decision at the time it fires.
 */
import { assign, sendParent, setup } from 'xstate';

export interface HeartbeatDebounceInput {
  /** Quiet time after the last change before the heartbeat, in ms (`heartbeat_debounce_ms`). */
  debounceMs: number;
}

export interface HeartbeatDebounceContext {
  debounceMs: number;
  /** Changes in the current burst. */
  changes: number;
}

export type HeartbeatDebounceEvent = { type: 'debounce.changed' };

/** Sent to the parent when a burst has been quiet for `debounceMs`. */
export type HeartbeatDebounceFired = { type: 'debounce.fired'; changes: number };

export const heartbeatDebounceMachine = setup({
  types: {} as { context: HeartbeatDebounceContext; events: HeartbeatDebounceEvent; input: HeartbeatDebounceInput },
  delays: { quiet: ({ context }) => context.debounceMs },
}).createMachine({
  id: 'heartbeatDebounce',
  context: ({ input }) => ({ debounceMs: input.debounceMs, changes: 0 }),
  initial: 'idle',
  states: {
    idle: {
      on: { 'debounce.changed': { target: 'waiting', actions: assign({ changes: 1 }) } },
    },
    waiting: {
      on: {
        // Re-entering restarts the `quiet` timer: the wait counts from the LAST change.
        'debounce.changed': { target: 'waiting', reenter: true, actions: assign({ changes: ({ context }) => context.changes + 1 }) },
      },
      after: {
        quiet: {
          target: 'idle',
          actions: [sendParent(({ context }): HeartbeatDebounceFired => ({ type: 'debounce.fired', changes: context.changes })), assign({ changes: 0 })],
        },
      },
    },
  },
});
