/**
 * One accepted WebSocket link, as role logic sees it. The WebSocket adapter owns the socket: it
 * ignores binary frames, answers pings, enforces the keepalive, and hands text frames over one at a
 * time, in arrival order (PROTOCOL.md §1.3). Actors never import `ws`.
 */

export interface LinkConnection {
  /** Unique per accepted socket for the life of the process, e.g. `c-42`. */
  readonly id: string;
  /** Peer address, for logs. */
  readonly remote: string;
  /** Whether the socket is open: a closed or closing socket is not (PROTOCOL.md §4.1 "live"). */
  isOpen(): boolean;
  /** Sends one text frame; returns false, sending nothing, when the socket is not open. */
  send(text: string): boolean;
  /** Starts the closing handshake with this code and reason. */
  close(code: number, reason: string): void;
}

/**
 * What a path (`/ws/node`, `/ws/session`) does with its connections. The adapter calls `frame` and
 * `closed` strictly in arrival order per connection: the next call waits until the promise returned
 * by the previous one settles, so the effects of message n are applied before message n+1 is read.
 */
export interface LinkHandler {
  opened(conn: LinkConnection): void;
  /** One text frame, unparsed (it may exceed `max_frame_bytes`: the handler answers it as invalid). */
  frame(conn: LinkConnection, data: Buffer): void | Promise<void>;
  /** The socket closed (after every frame received before the close was handled). */
  closed(conn: LinkConnection, code: number, reason: string): void | Promise<void>;
}
