/**
 * A WebSocket relay between a node and the scheduler, for failover tests: it forwards every text
 * frame both ways until `cut()`, which drops the scheduler side at once (the scheduler sees the
 * node's socket close) while the node side stays open and everything the node still sends is held.
 * `replay()` then opens a new scheduler connection as that node — its original `node_register`
 * with the node id it was given — and sends it what was held: a late result reaches the scheduler.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

type Frame = Record<string, unknown> & { type: string };

export class WsRelay {
  /** Frames the node sent after the cut. */
  readonly held: Frame[] = [];
  /** Every frame the node sent, in order. */
  readonly fromNode: Frame[] = [];
  private register: Frame | undefined;
  private nodeId: string | undefined;
  private upstream: WebSocket | undefined;
  private cutDone = false;
  private onFrame: ((frame: Frame) => void) | undefined;

  private constructor(
    private readonly server: WebSocketServer,
    private readonly target: string,
  ) {
    server.on('connection', (ws) => this.accept(ws));
  }

  static async start(target: string): Promise<WsRelay> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/node' });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new WsRelay(server, target);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The node id the scheduler gave the node behind this relay. */
  get relayedNodeId(): string | undefined {
    return this.nodeId;
  }

  /** Calls `listener` with every frame the node sends from now on. */
  watch(listener: (frame: Frame) => void): void {
    this.onFrame = listener;
  }

  /** Drops the scheduler side abruptly; from now on the node's frames are held. */
  cut(): void {
    this.cutDone = true;
    this.upstream?.terminate();
  }

  /** As the node, on a new connection: register again, then send the held frames. */
  async replay(): Promise<void> {
    if (!this.register || !this.nodeId) throw new Error('nothing to replay: the node never registered');
    const ws = new WebSocket(this.target);
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const acked = new Promise<void>((resolve) => ws.on('message', (data) => ((JSON.parse(String(data)) as Frame).type === 'node_register_ack' ? resolve() : undefined)));
    ws.send(JSON.stringify({ ...this.register, node_id: this.nodeId }));
    await acked;
    for (const frame of this.held) ws.send(JSON.stringify(frame));
    this.upstream = ws;
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    this.upstream?.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(node: WebSocket): void {
    const upstream = new WebSocket(this.target);
    this.upstream = upstream;
    upstream.on('error', () => undefined);
    node.on('error', () => undefined);
    const pending: string[] = [];
    upstream.on('open', () => pending.splice(0).forEach((f) => upstream.send(f)));
    upstream.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'node_register_ack') this.nodeId = String(frame.node_id);
      if (!this.cutDone && node.readyState === WebSocket.OPEN) node.send(String(data));
    });
    upstream.on('close', () => {
      // Until the cut, the relay is transparent: the scheduler closing closes the node's socket.
      if (!this.cutDone) node.close();
    });
    node.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      this.fromNode.push(frame);
      if (frame.type === 'node_register') this.register = frame;
      this.onFrame?.(frame);
      if (this.cutDone) {
        this.held.push(frame);
        return;
      }
      if (upstream.readyState === WebSocket.OPEN) upstream.send(String(data));
      else pending.push(String(data));
    });
    node.on('close', () => {
      if (!this.cutDone) upstream.close();
    });
  }
}
