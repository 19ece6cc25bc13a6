/**
 * The heartbeat machine's options and their defaults (PROTOCOL.md §3.2), apart from the machine so
 * that reading the node's configuration (`--print-config`, the option defaults) loads no xstate.
 */

export interface HeartbeatOptions {
  /** Period between heartbeats, in ms, until an ack gives another (`heartbeat_interval_ms`, §3.2). */
  intervalMs: number;
  /** Quiet time before a change-triggered heartbeat, in ms (`heartbeat_debounce_ms`). */
  debounceMs: number;
}

export const DEFAULT_HEARTBEAT_OPTIONS = { intervalMs: 15_000, debounceMs: 2_000 } as const satisfies HeartbeatOptions;
