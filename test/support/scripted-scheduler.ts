/**
 * A scheduler played by the test: a real `ws` server on 127.0.0.1 (port 0 unless given) serving
 * `/ws/node`. It records every frame each connection receives and every ping, and lets the test
 * answer, stop answering pings (`autoPong` is off; pongs are sent by hand while `answerPings`),
 * close or drop connections. Optional token check (401 + `WWW-Authenticate: Bearer`, §1.2).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

export interface SchedulerSideConnection {
  ws: WebSocket;
  headers: IncomingMessage['headers'];
  /** Text frames received, parsed as JSON. */
  received: Array<{ type: string } & Record<string, unknown>>;
  binaryFrames: number;
  pings: number;
  /** Answer the node's pings (default true). */
  answerPings: boolean;
  closed: { code: number; reason: string } | undefined;
  send(message: object): void;
  sendRaw(data: string | Buffer): void;
}

export class ScriptedScheduler {
  readonly connections: SchedulerSideConnection[] = [];
  refusedUpgrades = 0;

  private constructor(
    private readonly server: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(options: { port?: number; token?: string } = {}): Promise<ScriptedScheduler> {
    let refused = 0;
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: options.port ?? 0,
      path: '/ws/node',
      autoPong: false,
      verifyClient: options.token
        ? (info, done) => {
            const ok = info.req.headers.authorization === `Bearer ${options.token}`;
            if (!ok) refused += 1;
            done(ok, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' });
          }
        : undefined,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const address = server.address();
    const scheduler = new ScriptedScheduler(server, typeof address === 'object' && address ? address.port : 0);
    Object.defineProperty(scheduler, 'refusedUpgrades', { get: () => refused });
    server.on('connection', (ws, req) => {
      const conn: SchedulerSideConnection = {
        ws,
        headers: req.headers,
        received: [],
        binaryFrames: 0,
        pings: 0,
        answerPings: true,
        closed: undefined,
        send: (message) => ws.send(JSON.stringify(message)),
        sendRaw: (data) => ws.send(data, { binary: Buffer.isBuffer(data) }),
      };
      ws.on('message', (data, isBinary) => {
        if (isBinary) conn.binaryFrames += 1;
        else conn.received.push(JSON.parse(String(data)) as { type: string });
      });
      ws.on('ping', (data) => {
        conn.pings += 1;
        if (conn.answerPings) ws.pong(data);
      });
      ws.on('close', (code, reason) => {
        conn.closed = { code, reason: String(reason) };
      });
      ws.on('error', () => undefined);
      scheduler.connections.push(conn);
    });
    return scheduler;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The newest connection. */
  get last(): SchedulerSideConnection {
    const conn = this.connections[this.connections.length - 1];
    if (!conn) throw new Error('no node connected');
    return conn;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Waits for real I/O: polls `predicate` every few ms, failing after `timeoutMs` of real time.
 * `refresh`, when given, runs before each check (e.g. to fetch what the predicate reads).
 */
export async function waitFor(predicate: () => boolean, what = 'condition', timeoutMs = 5_000, refresh?: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (refresh) await refresh();
    if (predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, refresh ? 50 : 5));
  }
}
