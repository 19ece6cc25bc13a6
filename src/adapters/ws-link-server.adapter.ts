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
 *
 * Memory is per connection, at 10 000 nodes: a connection is one `WsLink` object, the `ws` events
 * go to shared functions (EventEmitter calls them with the socket as `this`), and the keepalive is
 * one timing wheel for every connection instead of a timer each.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
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
  /** Silence after which a connection is terminated, in ms (checked at each ping). */
  idleTimeoutMs: number;
  /** Frames waiting for the handler before the socket is paused. Default 256. */
  maxQueuedFrames?: number;
  /** Step of the keepalive wheel, in ms: pings go out within this of their due time. Default 1 000. */
  keepaliveTickMs?: number;
  clock: Clock;
  logger: Logger;
}

export interface WsLinkServer {
  /** Pass as `onUpgrade` to `startHttpServer`. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Number of open connections. */
  connectionCount(): number;
  /**
   * Closes every connection with 1001 "going away" and waits until the handlers saw the closes, at
   * most `timeoutMs`, after which the sockets are destroyed. Idempotent.
   */
  close(timeoutMs: number): Promise<void>;
}

type Queued = Buffer | { code: number; reason: string };

const LINK = Symbol('linguamesh.link');
type TaggedSocket = WebSocket & { [LINK]?: WsLink };

let nextConnectionId = 1;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** State shared by every connection of one server. */
interface ServerState {
  readonly log: Logger;
  readonly clock: Clock;
  readonly maxQueued: number;
  readonly live: Set<WsLink>;
  readonly wheel: KeepaliveWheel;
  /** Called whenever a connection's close has been handled. */
  onGone: (() => void) | undefined;
}

class WsLink implements LinkConnection {
  readonly id = `c-${nextConnectionId++}`;
  lastFrameAt: number;
  /** Frames (and the close) waiting while the handler works on an earlier one. */
  private queue: Queued[] | undefined;
  private busy = false;
  private handlingClose = false;
  private paused = false;
  private done = false;
  private whenSettled: (() => void) | undefined;
  private whenFailed: ((err: unknown) => void) | undefined;

  constructor(
    readonly ws: WebSocket,
    /** The peer's TCP socket: the address is read from it when asked, not kept as a string per link. */
    private readonly peer: Socket,
    private readonly handler: LinkHandler,
    private readonly server: ServerState,
  ) {
    this.lastFrameAt = server.clock.now();
  }

  get remote(): string {
    return `${this.peer.remoteAddress ?? '?'}:${this.peer.remotePort ?? '?'}`;
  }

  isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(text);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  heard(): void {
    this.lastFrameAt = this.server.clock.now();
  }

  enqueue(item: Queued): void {
    if (this.busy) {
      (this.queue ??= []).push(item);
      if (!this.paused && Buffer.isBuffer(item) && this.queue.length >= this.server.maxQueued) {
        this.paused = true;
        this.ws.pause();
      }
      return;
    }
    this.run(item);
  }

  /** Hands one item to the handler; then the queued ones, as long as the handler answers at once. */
  private run(first: Queued): void {
    let item: Queued | undefined = first;
    while (item !== undefined) {
      let result: void | Promise<void>;
      const isClose = !Buffer.isBuffer(item);
      try {
        result = Buffer.isBuffer(item) ? this.handler.frame(this, item) : this.handler.closed(this, item.code, item.reason);
      } catch (err) {
        this.server.log.error({ err, conn: this.id }, 'link handler threw');
        result = undefined;
      }
      if (result !== undefined) {
        this.busy = true;
        this.handlingClose = isClose;
        // Bound once per connection: a closure per frame would be garbage at the frame rate.
        this.whenSettled ??= this.settled.bind(this);
        this.whenFailed ??= this.failed.bind(this);
        result.then(this.whenSettled, this.whenFailed);
        return;
      }
      if (isClose) return this.finish();
      item = this.next();
    }
  }

  private settled(): void {
    this.busy = false;
    if (this.handlingClose) return this.finish();
    const item = this.next();
    if (item !== undefined) this.run(item);
  }

  private failed(err: unknown): void {
    this.server.log.error({ err, conn: this.id }, 'link handler failed');
    this.settled();
  }

  private next(): Queued | undefined {
    const item = this.queue?.shift();
    if (this.queue?.length === 0) this.queue = undefined;
    if (this.paused && (this.queue?.length ?? 0) < this.server.maxQueued / 4) {
      this.paused = false;
      this.ws.resume();
    }
    return item;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.server.live.delete(this);
    this.server.onGone?.();
  }
}

// `ws` calls its listeners with the socket as `this`: one function each serves every connection.
function onMessage(this: TaggedSocket, data: RawData, isBinary: boolean): void {
  const link = this[LINK];
  if (!link) return;
  link.heard();
  // §1.3: binary frames are ignored by every receiver, with no reply.
  if (isBinary) return;
  link.enqueue(toBuffer(data));
}

function onHeard(this: TaggedSocket): void {
  this[LINK]?.heard();
}

function onClose(this: TaggedSocket, code: number, reason: Buffer): void {
  const link = this[LINK];
  if (!link) return;
  if (this.isPaused) this.resume();
  link.enqueue({ code, reason: reason.toString('utf8') });
}

/**
 * Keepalive for every connection on one timer: `slots` buckets visited one per tick, a connection
 * sitting in one bucket, so it is visited once per `pingIntervalMs`. A visit terminates a
 * connection silent for `idleTimeoutMs` and pings the others. A connection is thus pinged every
 * ping interval and terminated at the first visit after its silence reached the limit.
 */
class KeepaliveWheel {
  private readonly slots: Array<Set<WsLink>>;
  private cursor = 0;
  private timer: TimerId | undefined;
  private size = 0;
  private readonly tick = (): void => this.visit();

  constructor(
    private readonly clock: Clock,
    private readonly tickMs: number,
    pingIntervalMs: number,
    private readonly idleTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.slots = Array.from({ length: Math.max(1, Math.round(pingIntervalMs / tickMs)) }, () => new Set<WsLink>());
  }

  add(link: WsLink): void {
    // The bucket visited last in this round: one full ping interval from the next tick.
    this.slots[(this.cursor + this.slots.length - 1) % this.slots.length]!.add(link);
    if (this.size++ === 0) this.timer = this.clock.setTimeout(this.tick, this.tickMs);
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private visit(): void {
    const slot = this.slots[this.cursor]!;
    this.cursor = (this.cursor + 1) % this.slots.length;
    const now = this.clock.now();
    for (const link of slot) {
      // A closing socket is ws's to finish (its own close timeout); nothing more to watch.
      if (link.ws.readyState !== WebSocket.OPEN) {
        slot.delete(link);
        this.size--;
        continue;
      }
      if (now - link.lastFrameAt >= this.idleTimeoutMs) {
        this.log.info({ conn: link.id, silentMs: now - link.lastFrameAt }, 'terminating a silent connection');
        link.ws.terminate();
        slot.delete(link);
        this.size--;
        continue;
      }
      link.ws.ping();
    }
    this.timer = this.size > 0 ? this.clock.setTimeout(this.tick, this.tickMs) : undefined;
  }
}

export function createWsLinkServer(options: WsLinkServerOptions): WsLinkServer {
  const log = options.logger.child({ actor: 'ws' });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * options.maxFrameBytes, perMessageDeflate: false });
  const server: ServerState = {
    log,
    clock: options.clock,
    maxQueued: options.maxQueuedFrames ?? 256,
    live: new Set(),
    wheel: new KeepaliveWheel(options.clock, options.keepaliveTickMs ?? 1_000, options.pingIntervalMs, options.idleTimeoutMs, log),
    onGone: undefined,
  };
  let closing: Promise<void> | undefined;

  const accept = (ws: WebSocket, handler: LinkHandler, peer: Socket) => {
    const link = new WsLink(ws, peer, handler, server);
    (ws as TaggedSocket)[LINK] = link;
    server.live.add(link);
    server.wheel.add(link);
    ws.on('message', onMessage);
    ws.on('pong', onHeard);
    ws.on('ping', onHeard);
    ws.on('close', onClose);
    ws.on('error', onSocketError);
    try {
      handler.opened(link);
    } catch (err) {
      log.error({ err, conn: link.id }, 'link open handler threw');
    }
  };
  function onSocketError(this: TaggedSocket, err: Error): void {
    log.debug({ err, conn: this[LINK]?.id }, 'link socket error');
  }

  return {
    onUpgrade(req, socket, head) {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const handler = options.links[path];
      if (!handler || closing) {
        socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, handler, req.socket));
    },
    connectionCount: () => server.live.size,
    close(timeoutMs) {
      closing ??= (async () => {
        const allGone = new Promise<void>((resolve) => {
          server.onGone = () => {
            if (server.live.size === 0) resolve();
          };
          server.onGone();
        });
        for (const link of server.live) link.ws.close(1001, 'going away');
        let timer: TimerId | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = options.clock.setTimeout(() => resolve('expired'), timeoutMs);
        });
        if ((await Promise.race([allGone, expired])) === 'expired') {
          for (const link of server.live) link.ws.terminate();
          await allGone;
        }
        options.clock.clearTimeout(timer);
        server.wheel.stop();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}
