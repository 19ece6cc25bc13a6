/**
 * Fleet benchmark (issue "Scheduler scale-out"), all in one run on loopback. Simulated nodes
 * (bench/scheduler-nodes.ts: register, then heartbeat with a capability change every 10 heartbeats,
 * as fast as their sockets drain) against
 *   (a) one scheduler instance with the in-memory store,
 *   (b) one instance on Redis (a fleet of one),
 *   (c) three instances on one Redis, the nodes split among them.
 * For each: heartbeats handled per second (all instances together, first to last handled), CPU time
 * per 1 000 heartbeats per instance, and Redis commands and round trips per heartbeat from Redis's
 * own statistics (`INFO commandstats` calls; `INFO stats` total_reads_processed, one per request
 * batch read off a socket). Then, on (c), cross-instance dispatch latency: a probe node held by
 * instance C (its own language pair, de→fr, so that only it qualifies) answers each job at once;
 * a client on A sends utterances one at a time, and the time from the utterance to the
 * `job_assign` at the node is taken, next to the same with the client on C (local dispatch).
 *
 *   npx tsx bench/fleet.ts [--nodes=6000] [--frames=60000] [--rounds=3] [--probes=300]
 *
 * Goals: (b)/(a) ≥ 0.5; ≤ 1 Redis round trip per heartbeat; cross-instance dispatch p99 < 10 ms.
 * Server processes, node processes, Redis and this orchestrator share the machine's cores.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { startRedisServer } from '../test/support/redis-server.js';
import type { FleetServerCommand, FleetServerStats } from './fleet-server.js';
import type { NodesCommand } from './scheduler-nodes.js';
import { argNumber, fmt, report, summarize } from './stats.js';
import { startBenchProcess } from './bench-process.js';
import type { Endpoint } from './bench-process.js';

const NODES = argNumber('nodes', 6_000);
const FRAMES = argNumber('frames', NODES * 10);
const ROUNDS = argNumber('rounds', 3);
const PROBES = argNumber('probes', 300);

interface Instance {
  server: Endpoint;
  nodes: Endpoint;
  port: number;
}

interface RoundResult {
  rate: number;
  handled: number;
  cpuPer1k: number[];
  commandsPerHeartbeat: number;
  readsPerHeartbeat: number;
}

async function redisCounters(raw: Redis | undefined): Promise<{ calls: number; reads: number }> {
  if (!raw) return { calls: 0, reads: 0 };
  const commandstats = (await raw.info('commandstats')) as string;
  const stats = (await raw.info('stats')) as string;
  const calls = [...commandstats.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  const reads = Number(/total_reads_processed:(\d+)/.exec(stats)?.[1] ?? 0);
  return { calls, reads };
}

async function stats(instance: Instance, reset: boolean): Promise<FleetServerStats> {
  return instance.server.request<FleetServerStats>({ cmd: 'stats', reset } satisfies FleetServerCommand);
}

/** Starts `count` instances on `store`, each with its share of the nodes, registered and heartbeating. */
async function startInstances(store: string, count: number): Promise<Instance[]> {
  const instances: Instance[] = [];
  const share = Math.floor(NODES / count);
  for (let i = 0; i < count; i++) {
    const server = await startBenchProcess('./fleet-server.ts', [store]);
    const nodes = await startBenchProcess('./scheduler-nodes.ts', []);
    instances.push({ server: server.endpoint, nodes: nodes.endpoint, port: server.hello.port as number });
  }
  await Promise.all(
    instances.map((instance, i) =>
      instance.nodes.request({ cmd: 'connect', url: `ws://127.0.0.1:${instance.port}/ws/node`, count: share, expectAcks: true, firstIndex: 1 + i * share } satisfies NodesCommand),
    ),
  );
  for (const instance of instances) await waitFor(async () => (await stats(instance, false)).handled >= 3 * share, 300_000);
  for (const instance of instances) await stats(instance, true);
  return instances;
}

async function stopInstances(instances: Instance[]): Promise<void> {
  for (const instance of instances) {
    await instance.nodes.request({ cmd: 'close' } satisfies NodesCommand).catch(() => undefined);
    await instance.server.request({ cmd: 'stop' } satisfies FleetServerCommand).catch(() => undefined);
  }
}

/** One saturation round over every instance at once. */
async function blastRound(instances: Instance[], raw: Redis | undefined): Promise<RoundResult> {
  const before = await redisCounters(raw);
  const share = Math.floor(FRAMES / instances.length);
  await Promise.all(instances.map((instance) => instance.nodes.request({ cmd: 'blast', frames: share, changeEvery: 10 } satisfies NodesCommand)));
  // Drained: no instance's count moves for half a second.
  let last = -1;
  for (;;) {
    const total = (await Promise.all(instances.map((i) => stats(i, false)))).reduce((sum, s) => sum + s.handled, 0);
    if (total === last) break;
    last = total;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const after = await redisCounters(raw);
  const all = await Promise.all(instances.map((i) => stats(i, true)));
  const handled = all.reduce((sum, s) => sum + s.handled, 0);
  const span = Math.max(...all.map((s) => s.lastAt)) - Math.min(...all.map((s) => s.firstAt));
  return {
    rate: handled / Math.max(1e-3, span / 1000),
    handled,
    cpuPer1k: all.map((s) => (s.cpuMs / Math.max(1, s.handled)) * 1000),
    // The two INFO calls of `redisCounters` are left out.
    commandsPerHeartbeat: (after.calls - before.calls - 2) / Math.max(1, handled),
    readsPerHeartbeat: (after.reads - before.reads - 2) / Math.max(1, handled),
  };
}

async function measure(label: string, store: string, count: number, raw: Redis | undefined, probe?: (instances: Instance[]) => Promise<void>): Promise<RoundResult> {
  const instances = await startInstances(store, count);
  try {
    const rounds: RoundResult[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await blastRound(instances, raw));
    rounds.sort((x, y) => x.rate - y.rate);
    const median = rounds[Math.floor(rounds.length / 2)]!;
    console.log(`${label}: ${rounds.map((r) => fmt(r.rate, 0)).join(', ')} heartbeats/s over ${ROUNDS} rounds`);
    if (probe) await probe(instances);
    return median;
  } finally {
    await stopInstances(instances);
  }
}

// ---- cross-instance dispatch latency ---------------------------------------------------------

const PROBE_NODE = 'node-PROBE0001';
const PROBE_REGISTER = {
  type: 'node_register', node_id: PROBE_NODE, version: '0.1.0', capability_schema_version: '2.0', platform: 'linux',
  hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] }, installed_models: [],
  installed_services: [
    { service_id: 'asr-de', type: 'asr', device: 'gpu', status: 'running' },
    { service_id: 'mt-de-fr', type: 'nmt', device: 'gpu', status: 'running' },
    { service_id: 'tts-fr', type: 'tts', device: 'gpu', status: 'running' },
  ],
  capability_by_type: [
    { type: 'asr', ready: true, ready_impl_ids: ['asr-de'] },
    { type: 'nmt', ready: true, ready_impl_ids: ['mt-de-fr'] },
    { type: 'tts', ready: true, ready_impl_ids: ['tts-fr'] },
  ],
  features_supported: {}, accept_public_jobs: true, max_concurrent_jobs: 64,
  language_capabilities: { asr_languages: ['de'], tts_languages: ['fr'], nmt_pairs: [{ src: 'de', tgt: 'fr' }], semantic_languages: ['fr'], semantic_core_ready: true },
};

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, match: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within 30 s')), 30_000);
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (!match(message)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
  });
}

/** A node on `port` that answers every job at once; resolves once it is ready. */
async function startProbeNode(port: number): Promise<{ ws: WebSocket; assigns: Array<(at: number) => void> }> {
  const ws = await connect(`ws://127.0.0.1:${port}/ws/node`);
  const assigns: Array<(at: number) => void> = [];
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Record<string, unknown>;
    if (m.type !== 'job_assign') return;
    assigns.shift()?.(performance.now());
    ws.send(JSON.stringify({
      type: 'job_result', job_id: m.job_id, attempt_id: m.attempt_id, node_id: PROBE_NODE, session_id: m.session_id, trace_id: m.trace_id, utterance_index: m.utterance_index,
      success: true, text_asr: 'hallo', text_translated: 'bonjour', tts_audio: 'AwD4//4=', tts_format: 'opus', processing_time_ms: 1,
    }));
  });
  ws.send(JSON.stringify(PROBE_REGISTER));
  await nextMessage(ws, (m) => m.type === 'node_register_ack');
  let seq = 0;
  const heartbeat = () => ws.send(JSON.stringify({
    type: 'node_heartbeat', node_id: PROBE_NODE, timestamp: Date.now(), epoch: 'probe', seq: ++seq,
    resource_usage: { cpu_percent: 1, mem_percent: 1, gpu_percent: 1, running_jobs: 0 },
    installed_services: PROBE_REGISTER.installed_services, capability_by_type: PROBE_REGISTER.capability_by_type, language_capabilities: PROBE_REGISTER.language_capabilities,
  }));
  for (let i = 0; i < 3; i++) heartbeat();
  await nextMessage(ws, (m) => m.type === 'node_status' && m.status === 'ready');
  return { ws, assigns };
}

/** Utterance → job_assign at the probe node, `PROBES` times one after the other, from a session on `port`. */
async function dispatchLatencies(port: number, probe: { assigns: Array<(at: number) => void> }): Promise<number[]> {
  const ws = await connect(`ws://127.0.0.1:${port}/ws/session`);
  ws.send(JSON.stringify({ type: 'session_init', client_version: 'bench-1', platform: 'web', src_lang: 'de', tgt_lang: 'fr', audio_format: 'pcm16' }));
  const ack = await nextMessage(ws, (m) => m.type === 'session_init_ack');
  const sessionId = String(ack.session_id);
  const audio = Buffer.alloc(640).toString('base64');
  const samples: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const assigned = new Promise<number>((resolve) => probe.assigns.push(resolve));
    const answered = nextMessage(ws, (m) => m.type === 'translation_result');
    const sentAt = performance.now();
    ws.send(JSON.stringify({ type: 'audio_chunk', session_id: sessionId, seq: 2 * i, is_final: false, payload: audio }));
    ws.send(JSON.stringify({ type: 'audio_chunk', session_id: sessionId, seq: 2 * i + 1, is_final: true, payload: '' }));
    samples.push((await assigned) - sentAt);
    await answered;
  }
  ws.close();
  return samples;
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  console.log(`fleet benchmark: ${NODES} simulated nodes, ${ROUNDS} saturation rounds of ${FRAMES} heartbeats per configuration, ${PROBES} dispatch probes`);
  console.log(`${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}): every process here shares them, so every number includes that contention.`);
  const redis = await startRedisServer();
  const raw = new Redis(redis.url);
  let cross: number[] = [];
  let local: number[] = [];
  try {
    const memory = await measure('(a) memory store, 1 instance', 'memory', 1, undefined);
    const one = await measure('(b) Redis, 1 instance', redis.url, 1, raw);
    await raw.flushall();
    const three = await measure('(c) Redis, 3 instances', redis.url, 3, raw, async (instances) => {
      const [a, , c] = instances as [Instance, Instance, Instance];
      const probe = await startProbeNode(c.port);
      await waitFor(async () => {
        const pools = (await (await fetch(`http://127.0.0.1:${a.port}/api/v1/pools`)).json()) as { pools: Record<string, string[]> };
        return (pools.pools['de:fr'] ?? []).includes(PROBE_NODE);
      }, 60_000);
      cross = await dispatchLatencies(a.port, probe);
      local = await dispatchLatencies(c.port, probe);
      probe.ws.close();
    });
    const ratio = one.rate / memory.rate;
    const per = (r: RoundResult) => r.cpuPer1k.map((x) => `${fmt(x, 0)} ms`).join(' / ');
    report('heartbeats (median round; a capability change every 10 heartbeats)', [
      ['(a) memory store, 1 instance', `${fmt(memory.rate, 0)} heartbeats/s; CPU per 1 000 heartbeats ${per(memory)}`],
      ['(b) Redis, 1 instance', `${fmt(one.rate, 0)} heartbeats/s; CPU per 1 000 heartbeats ${per(one)}`],
      ['(c) Redis, 3 instances (together)', `${fmt(three.rate, 0)} heartbeats/s; CPU per 1 000 heartbeats per instance ${per(three)}`],
      ['ratio (b) / (a)', `${fmt(ratio)}  (goal ≥ 0.5: ${ratio >= 0.5 ? 'met' : 'NOT met'})`],
    ]);
    report('Redis per heartbeat (INFO commandstats calls, INFO stats total_reads_processed)', [
      ['(b) commands / round trips', `${fmt(one.commandsPerHeartbeat, 2)} / ${fmt(one.readsPerHeartbeat, 2)}  (goal ≤ 1 round trip: ${one.readsPerHeartbeat <= 1 ? 'met' : 'NOT met'})`],
      ['(c) commands / round trips', `${fmt(three.commandsPerHeartbeat, 2)} / ${fmt(three.readsPerHeartbeat, 2)}  (goal ≤ 1 round trip: ${three.readsPerHeartbeat <= 1 ? 'met' : 'NOT met'})`],
    ]);
    const c = summarize(cross);
    const l = summarize(local);
    report(`dispatch latency on (c), utterance → job_assign at the node held by C, ${PROBES} one at a time`, [
      ['client on A (cross-instance: reservation in Redis, A → C inbox → node)', `p50 ${fmt(c.p50, 2)} ms, p99 ${fmt(c.p99, 2)} ms  (goal p99 < 10 ms: ${c.p99 < 10 ? 'met' : 'NOT met'})`],
      ['client on C (local dispatch, reservation in Redis)', `p50 ${fmt(l.p50, 2)} ms, p99 ${fmt(l.p99, 2)} ms`],
    ]);
    const interval = 15;
    const perNode = three.commandsPerHeartbeat / interval;
    report('capacity arithmetic (heartbeat every 15 s)', [
      ['heartbeats/s per 10 000 nodes', fmt(10_000 / interval, 0)],
      ['Redis commands/s per 10 000 nodes (from (c))', fmt(perNode * 10_000, 0)],
      ['nodes one instance sustains at full CPU (from (b))', `${fmt(one.rate * interval, 0)} (at 50 % CPU: ${fmt((one.rate * interval) / 2, 0)})`],
    ]);
  } finally {
    raw.disconnect();
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
