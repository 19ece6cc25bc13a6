/**
 * The link machine's options and their defaults (PROTOCOL.md §0.5, §3.1), apart from the machine so
 * that reading the node's configuration (`--print-config`, the option defaults) loads no xstate.
 */

export interface LinkOptions {
  /** Period of the node's WebSocket pings, in ms (PROTOCOL.md §0.5 `ws_ping_interval_ms`). */
  wsPingIntervalMs: number;
  /** The link is dead after this long without any frame from the scheduler, pongs included, in ms (`link_dead_ms`). */
  linkDeadMs: number;
  /** Base wait before the first reconnect, in ms (`reconnect_min_ms`, §3.1 step 6). */
  reconnectMinMs: number;
  /** Cap of the base reconnect wait, in ms (`reconnect_max_ms`). */
  reconnectMaxMs: number;
  /** Extra random wait as a fraction of the base (0.2: uniform in [d, 1.2·d], §3.1 step 6). */
  reconnectJitter: number;
}

export const DEFAULT_LINK_OPTIONS = {
  wsPingIntervalMs: 15_000,
  linkDeadMs: 30_000,
  reconnectMinMs: 5_000,
  reconnectMaxMs: 60_000,
  reconnectJitter: 0.2,
} as const satisfies LinkOptions;
