/**
 * The server side of the WebSocket links (PROTOCOL.md §1.1, §1.3): upgrades on the HTTP server's
 * port are routed by path to a `LinkHandler`. Per socket it
 * - ignores binary frames, with no reply;
 * - hands text frames to the handler one at a time, in arrival order, the close last: a frame is
 *   handed over only once the handler's promise for the previous one settled;
 * - pauses reading while too many frames wait, so a flooding peer meets TCP backpressure instead
 *   of an unbounded queue;
 * - pings every `pingIntervalMs` and terminates a connection that produced no frame (pongs
 *   included) for `idleTimeoutMs`, on the injected clock.
 * Frames up to 4 × `maxFrameBytes` are read (larger ones close the socket with 1009); the handler
 * answers those over `maxFrameBytes` as invalid.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { RawData } from 'ws';
import type { Clock, TimerId } from '../kernel/clock.js';
import type { Logger } from '../kernel/logger.js';
import type { LinkConnection, LinkHandler } from '../kernel/ports/link.port.js';

export interface WsLinkServerOptions {
  /** Path (`/ws/node`) → handler of its connections. */
  links: Record<string, LinkHandler>;
  /** `max_frame_bytes`, in bytes: frames up to 4 × this are read. */
  maxFrameBytes: number;
  /** Period of pings, in ms. */
  pingIntervalMs: number;
  /** Silence after which a connection is terminated, in ms. */
  idleTimeoutMs: number;
  /** Frames waiting for the handler before the socket is paused. Default 256. */
  maxQueuedFrames?: number;
  clock: Clock;
  logger: Logger;
}

export interface WsLinkServer {
  /** Pass as `onUpgrade` to `startHttpServer`. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Number of open connections. */
  connectionCount(): number;
  /**
   * Closes every connection with `code` (1001 "going away" by default) and waits for the handlers
   * to see the closes, at most `timeoutMs`, after which the sockets are destroyed. Idempotent.
   */
  close(timeoutMs: number): Promise<void>;
}

type Queued = { kind: 'frame'; data: Buffer } | { kind: 'close'; code: number; reason: string };

let nextConnectionId = 1;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function createWsLinkServer(options: WsLinkServerOptions): WsLinkServer {
  const log = options.logger.child({ actor: 'ws' });
  const clock = options.clock;
  const maxQueued = options.maxQueuedFrames ?? 256;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * options.maxFrameBytes, perMessageDeflate: false });
  const live = new Set<WebSocket>();
  const finished = new Map<WebSocket, Promise<void>>();
  let closing: Promise<void> | undefined;

  const accept = (ws: WebSocket, handler: LinkHandler, remote: string) => {
    const conn: LinkConnection = {
      id: `c-${nextConnectionId++}`,
      remote,
      isOpen: () => ws.readyState === WebSocket.OPEN,
      send: (text) => {
        if (ws.readyState !== WebSocket.OPEN) return false;
        ws.send(text);
        return true;
      },
      close: (code, reason) => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
      },
    };
    live.add(ws);
    let settle!: () => void;
    finished.set(
      ws,
      new Promise<void>((resolve) => {
        settle = () => {
          finished.delete(ws);
          resolve();
        };
      }),
    );

    // Frames in arrival order; `busy` while the handler's promise for the head item is pending.
    const queue: Queued[] = [];
    let busy = false;
    let paused = false;
    const pump = (): void => {
      while (queue.length > 0) {
        const item = queue.shift()!;
        if (paused && queue.length < maxQueued / 4) {
          paused = false;
          ws.resume();
        }
        let result: void | Promise<void>;
        try {
          result = item.kind === 'frame' ? handler.frame(conn, item.data) : handler.closed(conn, item.code, item.reason);
        } catch (err) {
          log.error({ err, conn: conn.id }, 'link handler threw');
          result = undefined;
        }
        if (item.kind === 'close') {
          // Nothing follows a close; settle once its handling is done.
          void Promise.resolve(result).catch((err: unknown) => log.error({ err, conn: conn.id }, 'link close handler failed')).finally(settle);
          return;
        }
        if (result !== undefined) {
          busy = true;
          result.then(
            () => {
              busy = false;
              pump();
            },
            (err: unknown) => {
              log.error({ err, conn: conn.id }, 'link frame handler failed');
              busy = false;
              pump();
            },
          );
          return;
        }
      }
    };
    const enqueue = (item: Queued) => {
      queue.push(item);
      if (!paused && item.kind === 'frame' && queue.length >= maxQueued) {
        paused = true;
        ws.pause();
      }
      if (!busy) pump();
    };

    // Keepalive: one timer per socket, woken at the next ping or at the idle deadline.
    let lastFrameAt = clock.now();
    let nextPingAt = lastFrameAt + options.pingIntervalMs;
    let timer: TimerId | undefined;
    const arm = () => {
      timer = clock.setTimeout(check, Math.max(0, Math.min(nextPingAt, lastFrameAt + options.idleTimeoutMs) - clock.now()));
    };
    const check = () => {
      timer = undefined;
      // A closing socket is ws's to finish (its own close timeout); nothing more to watch.
      if (ws.readyState !== WebSocket.OPEN) return;
      const now = clock.now();
      if (now - lastFrameAt >= options.idleTimeoutMs) {
        log.info({ conn: conn.id, silentMs: now - lastFrameAt }, 'terminating a silent connection');
        ws.terminate();
        return;
      }
      if (now >= nextPingAt) {
        ws.ping();
        nextPingAt = now + options.pingIntervalMs;
      }
      arm();
    };
    const heard = () => {
      lastFrameAt = clock.now();
    };
    arm();

    ws.on('message', (data: RawData, isBinary: boolean) => {
      heard();
      // §1.3: binary frames are ignored by every receiver, with no reply.
      if (isBinary) return;
      enqueue({ kind: 'frame', data: toBuffer(data) });
    });
    ws.on('pong', heard);
    ws.on('ping', heard);
    ws.on('error', (err) => log.debug({ err, conn: conn.id }, 'link socket error'));
    ws.on('close', (code: number, reason: Buffer) => {
      clock.clearTimeout(timer);
      live.delete(ws);
      if (paused) ws.resume();
      enqueue({ kind: 'close', code, reason: reason.toString('utf8') });
    });
    try {
      handler.opened(conn);
    } catch (err) {
      log.error({ err, conn: conn.id }, 'link open handler threw');
    }
  };

  return {
    onUpgrade(req, socket, head) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const handler = options.links[path];
      if (!handler || closing) {
        socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, handler, remote));
    },
    connectionCount: () => live.size,
    close(timeoutMs) {
      closing ??= (async () => {
        for (const ws of live) ws.close(1001, 'going away');
        const all = Promise.all([...finished.values()]);
        let timer: TimerId | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = clock.setTimeout(() => resolve('expired'), timeoutMs);
        });
        if ((await Promise.race([all, expired])) === 'expired') {
          for (const ws of live) ws.terminate();
          await all;
        }
        clock.clearTimeout(timer);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}
