/**
 * The simulated nodes of bench/scheduler.ts, in a process of their own: N `ws` clients on loopback
 * that register (all at once) and heartbeat with changing capabilities, paced like real nodes or
 * as fast as their sockets drain. Frames are prebuilt strings; clients mask with a zero key so
 * that masking costs the client nothing (a valid key; RFC 6455 wants it unpredictable, which a
 * benchmark does not need).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

export type NodesCommand =
  /** `firstIndex`: number of the first node (ids `node-<hex index>`), default 1; another process's nodes start further on. */
  | { cmd: 'connect'; url: string; count: number; expectAcks: boolean; firstIndex?: number }
  | { cmd: 'paced'; intervalMs: number; durationMs: number; changeEvery: number }
  | { cmd: 'blast'; frames: number; changeEvery: number }
  | { cmd: 'close' };

const EPOCH = '7c0f7e1e-2b1a-4c55-9d2f-0b8f3f1d6a11';
const GPU = { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] };
const SERVICES = [
  { service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' },
  { service_id: 'mt-en-es', type: 'nmt', device: 'gpu', status: 'running' },
  { service_id: 'tts-es', type: 'tts', device: 'gpu', status: 'running' },
];
const CAPS = [
  { type: 'asr', ready: true, ready_impl_ids: ['asr-en'] },
  { type: 'nmt', ready: true, ready_impl_ids: ['mt-en-es'] },
  { type: 'tts', ready: true, ready_impl_ids: ['tts-es'] },
];
/** Two capability reports a node alternates between: the second adds French TTS and en→fr. */
const LANGUAGES = [
  { asr_languages: ['en'], tts_languages: ['es'], nmt_pairs: [{ src: 'en', tgt: 'es' }], semantic_languages: ['es'], semantic_core_ready: true },
  { asr_languages: ['en'], tts_languages: ['es', 'fr'], nmt_pairs: [{ src: 'en', tgt: 'es' }, { src: 'en', tgt: 'fr' }], semantic_languages: ['es', 'fr'], semantic_core_ready: true },
];

interface SimNode {
  ws: WebSocket;
  index: number;
  nodeId: string;
  seq: number;
  variant: number;
  /** Prebuilt halves of a heartbeat per capability variant, around `seq`. */
  heads: [string, string];
  tail: [string, string];
}

const nodes: SimNode[] = [];

function registerFrame(nodeId: string): string {
  return JSON.stringify({
    type: 'node_register', node_id: nodeId, version: '0.1.0', capability_schema_version: '2.0', platform: 'linux', hardware: GPU,
    installed_models: [], installed_services: SERVICES, capability_by_type: CAPS, features_supported: {}, accept_public_jobs: true,
    language_capabilities: LANGUAGES[0], max_concurrent_jobs: 4, epoch: EPOCH,
  });
}

function heartbeatParts(nodeId: string, variant: number): [string, string] {
  const body = JSON.stringify({
    type: 'node_heartbeat', node_id: nodeId, timestamp: 1_767_225_600_000, epoch: EPOCH, seq: 0,
    resource_usage: { cpu_percent: 23.5, mem_percent: 58.1, gpu_percent: 41, running_jobs: 1 },
    installed_services: SERVICES, capability_by_type: CAPS, language_capabilities: LANGUAGES[variant],
  });
  const [head, tail] = body.split('"seq":0');
  return [`${head}"seq":`, tail!];
}

function heartbeat(node: SimNode, changeEvery: number): string {
  node.seq++;
  if (changeEvery > 0 && node.seq % changeEvery === 0) node.variant = 1 - node.variant;
  return node.heads[node.variant] + String(node.seq) + node.tail[node.variant];
}

function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

function open(url: string, index: number): Promise<SimNode> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
    ws.once('open', () => {
      const nodeId = `node-${index.toString(16).toUpperCase().padStart(8, '0')}`;
      const parts = [heartbeatParts(nodeId, 0), heartbeatParts(nodeId, 1)];
      resolve({ ws, index, nodeId, seq: 0, variant: 0, heads: [parts[0]![0], parts[1]![0]], tail: [parts[0]![1], parts[1]![1]] });
    });
    ws.once('error', reject);
  });
}

async function connect(url: string, count: number, expectAcks: boolean, firstIndex = 1): Promise<{ connectMs: number; burstMs: number }> {
  const started = performance.now();
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(Array.from({ length: Math.min(250, count - i) }, (_, k) => open(url, i + k + firstIndex)));
    nodes.push(...batch);
  }
  const connectMs = performance.now() - started;
  // The burst: every node registers at once; a node heartbeats as soon as it is acked (§3.1), so
  // registration and first heartbeats overlap as in a fleet reconnecting after a scheduler restart.
  const burstStarted = performance.now();
  const acked = nodes.map(
    (node) =>
      new Promise<void>((resolve) => {
        if (!expectAcks) return resolve();
        const onMessage = (data: Buffer) => {
          if (!data.toString().includes('"node_register_ack"')) return;
          node.ws.off('message', onMessage);
          for (let i = 0; i < 3; i++) node.ws.send(heartbeat(node, 0));
          resolve();
        };
        node.ws.on('message', onMessage);
      }),
  );
  for (const node of nodes) node.ws.send(registerFrame(node.nodeId));
  await Promise.all(acked);
  const burstMs = performance.now() - burstStarted;
  if (!expectAcks) for (const node of nodes) for (let i = 0; i < 3; i++) node.ws.send(heartbeat(node, 0));
  return { connectMs, burstMs };
}

/** Each node heartbeats every `intervalMs`, at a random phase. */
async function paced(intervalMs: number, durationMs: number, changeEvery: number): Promise<{ sent: number }> {
  let sent = 0;
  const timers: NodeJS.Timeout[] = [];
  for (const node of nodes) {
    const tick = () => {
      node.ws.send(heartbeat(node, changeEvery));
      sent++;
    };
    timers.push(
      setTimeout(() => {
        tick();
        timers.push(setInterval(tick, intervalMs));
      }, Math.random() * intervalMs),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const timer of timers) clearTimeout(timer);
  return { sent };
}

/** The nodes send `frames` heartbeats in all, each as fast as its socket drains, in corked bursts. */
async function blast(frames: number, changeEvery: number): Promise<{ sent: number }> {
  let sent = 0;
  while (sent < frames) {
    for (const node of nodes) {
      if (sent >= frames) break;
      const socket = socketOf(node.ws);
      if (socket.writableLength > 16 * 1024) continue;
      const burst = Math.min(8, frames - sent);
      socket.cork();
      for (let i = 0; i < burst; i++) node.ws.send(heartbeat(node, changeEvery));
      socket.uncork();
      sent += burst;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { sent };
}

process.on('message', (command: NodesCommand) => {
  const reply = (value: unknown) => process.send?.(value);
  switch (command.cmd) {
    case 'connect':
      void connect(command.url, command.count, command.expectAcks, command.firstIndex).then(reply);
      break;
    case 'paced':
      void paced(command.intervalMs, command.durationMs, command.changeEvery).then(reply);
      break;
    case 'blast':
      void blast(command.frames, command.changeEvery).then(reply);
      break;
    case 'close':
      for (const node of nodes) node.ws.terminate();
      reply({ closed: true });
      setImmediate(() => process.exit(0));
      break;
    default: {
      const never: never = command;
      return never;
    }
  }
});
process.send?.({ ready: true });
