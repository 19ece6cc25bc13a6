/**
 * A raw `ws` client speaking the JSON of PROTOCOL.md, for tests of the scheduler's links: it keeps
 * every message received, waits (bounded, real I/O) for the next one matching a predicate, and
 * `sync()`s with the scheduler: the scheduler handles a connection's frames in order (§1.3), so
 * once the answer to a probe arrives, everything sent before it has been handled.
 */
import { WebSocket } from 'ws';

export type Message = Record<string, unknown> & { type: string };

const PROBE_TYPE = 'test.sync_probe';

export class LinkClient {
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly inbox: Message[] = [];
  private waiter: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.inbox.push(JSON.parse(data.toString()) as Message);
      this.waiter?.();
    });
    ws.on('error', () => undefined);
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<LinkClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new LinkClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendBinary(data: Buffer): void {
    this.ws.send(data, { binary: true });
  }

  /** Messages received and not yet taken. */
  pending(): Message[] {
    return [...this.inbox];
  }

  /** Takes the first message (received or to come) that matches, within `timeoutMs` of real time. */
  async next(match: (m: Message) => boolean = () => true, timeoutMs = 5_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex(match);
      if (index >= 0) return this.inbox.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(this.inbox).slice(0, 600)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Takes the next message of `type`. */
  nextOfType(type: string, timeoutMs?: number): Promise<Message> {
    return this.next((m) => m.type === type, timeoutMs);
  }

  /**
   * Sends a probe of an unknown type and waits for its `node_error`; returns (and takes) every
   * message received before that answer.
   */
  async sync(): Promise<Message[]> {
    return this.syncWith((m) => m.type === 'node_error' && (m.details as { type?: unknown } | undefined)?.type === PROBE_TYPE);
  }

  /**
   * Sends a probe of an unknown type and waits for the answer `isAnswer` recognizes (the link's
   * error form); returns (and takes) every message received before it.
   */
  async syncWith(isAnswer: (m: Message, probeType: string) => boolean): Promise<Message[]> {
    this.send({ type: PROBE_TYPE });
    await this.next((m) => isAnswer(m, PROBE_TYPE));
    return this.inbox.splice(0, this.inbox.length);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    await this.closed;
  }
}

/** Attempts an upgrade; resolves the HTTP status (101 on success) and the response headers. */
export function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, headers: {} });
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}
