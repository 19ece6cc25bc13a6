/**
 * A scheduler on 127.0.0.1, port 0, on a FakeClock, with helpers for its HTTP API and links.
 */
import { request } from 'undici';
import { FakeClock } from '../../src/kernel/clock.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { startScheduler } from '../../src/cli/start-scheduler.js';
import type { SchedulerHandle, SchedulerOptions } from '../../src/cli/start-scheduler.js';
import { LinkClient } from './node-link-client.js';
import type { Message } from './node-link-client.js';
import { registerFrame } from './node-frames.js';
import type { NodeServices } from './node-frames.js';

export interface TestScheduler {
  scheduler: SchedulerHandle;
  clock: FakeClock;
  http: string;
  ws(path: string): string;
  getJson<T = unknown>(path: string, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** Connects to `/ws/node`; closed by `stop()`. */
  connectNode(headers?: Record<string, string>): Promise<LinkClient>;
  /** Connects and registers; resolves the client and its ack. */
  registerNode(overrides?: Record<string, unknown>, services?: NodeServices): Promise<{ client: LinkClient; ack: Message; nodeId: string }>;
  stop(): Promise<void>;
}

export async function startTestScheduler(options: SchedulerOptions = {}): Promise<TestScheduler> {
  const clock = new FakeClock();
  const scheduler = startScheduler({ host: '127.0.0.1', port: 0, clock, logger: silentLogger(), ...options });
  await scheduler.ready;
  const http = `http://127.0.0.1:${scheduler.port}`;
  const clients: LinkClient[] = [];
  const connectNode = async (headers: Record<string, string> = {}) => {
    const client = await LinkClient.connect(`ws://127.0.0.1:${scheduler.port}/ws/node`, headers);
    clients.push(client);
    return client;
  };
  return {
    scheduler,
    clock,
    http,
    ws: (path) => `ws://127.0.0.1:${scheduler.port}${path}`,
    async getJson<T>(path: string, headers: Record<string, string> = {}) {
      const res = await request(`${http}${path}`, { headers });
      const text = await res.body.text();
      return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
    },
    connectNode,
    async registerNode(overrides = {}, services = {}) {
      const client = await connectNode();
      client.send(registerFrame(overrides, services));
      const ack = await client.nextOfType('node_register_ack');
      return { client, ack, nodeId: String(ack.node_id) };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await scheduler.stop();
    },
  };
}
