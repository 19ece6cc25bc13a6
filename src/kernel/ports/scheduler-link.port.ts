/**
 * The node's WebSocket link to the scheduler (`/ws/node`, PROTOCOL.md §1, §2), as the link machine
 * sees it: open one connection, send typed messages, ping, close. The adapter owns the socket and
 * parses every text frame with `parseSchedulerToNode` (invalid frames and unknown types are logged
 * and ignored there, binary frames are ignored, §1.3, §1.5); only valid messages reach the node.
 */
import type { KernelErrorLike } from '../errors.js';
import type { NodeToSchedulerMessage, SchedulerToNodeMessage } from '../../protocol/node-link.schema.js';

export interface SchedulerLinkTarget {
  /** `ws(s)://host:port/ws/node`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set (§1.2). Never logged. */
  authToken?: string;
}

/**
 * What one connection reports, in arrival order. `activity` comes first for every frame the peer
 * sends (pongs, pings and frames that are ignored included), so a liveness deadline can be reset by
 * it alone (§1.3 `link_dead_ms`). `closed` comes exactly once, last, unless the node closed the
 * connection itself, after which nothing more is reported.
 */
export type SchedulerLinkEvent =
  | { type: 'opened' }
  | { type: 'activity' }
  | { type: 'message'; message: SchedulerToNodeMessage }
  | { type: 'closed'; code: number; reason: string; error?: KernelErrorLike };

export interface SchedulerConnection {
  /** Sends one text frame; false (and nothing sent) when the socket is not open. */
  send(message: NodeToSchedulerMessage): boolean;
  /** Sends a WebSocket ping when the socket is open. */
  ping(): void;
  /** Closes with a close frame (code 1000 by default); idempotent; silences further events. */
  close(code?: number, reason?: string): void;
  /** Drops the TCP connection at once (a dead link); idempotent; silences further events. */
  terminate(): void;
}

export interface SchedulerLinkPort {
  /** Starts connecting at once; `onEvent` receives the connection's events synchronously, in order. */
  connect(target: SchedulerLinkTarget, onEvent: (event: SchedulerLinkEvent) => void): SchedulerConnection;
}
