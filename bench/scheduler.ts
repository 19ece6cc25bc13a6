/**
 * Scheduler benchmark (issue "Scheduler: node registration, status machines, capability store and
 * language-pair pools"). N simulated nodes on loopback register at once, then heartbeat with
 * changing capabilities (a capability change every few heartbeats: store update and pool
 * recomputation included):
 *   1. registration burst: all N register at once; time until the last ack;
 *   2. resident memory per registered node: the server process's RSS before the nodes connected
 *      and once all are registered and heartbeating, divided by N (sockets included). Printed right
 *      after the burst (first full GC: the old space still holds the free space the burst's
 *      short-lived objects left between live ones) and settled (full GCs repeated until the heap
 *      stops shrinking, what V8's memory reducer does by itself once the process goes quiet); the
 *      goal is judged on the settled figure and on the figure after the paced phase;
 *   3. paced: every node heartbeats every 15 s (phase random); handling latency p50/p99 of each
 *      heartbeat (parse, identity, capabilities, status machine, store write), and event-loop delay;
 *   4. saturation: the nodes send a fixed number of heartbeats as fast as their sockets drain; the
 *      server's rate from its first to its last handled heartbeat, the median of a few rounds.
 * The baseline, measured in the same run with the same clients and frames, is a bare `ws` server
 * that only JSON-parses each frame; a second one also validates each frame with the protocol's
 * parser (JSON + zod), the part of the work no correct receiver can skip. Server, clients and this
 * orchestrator are separate processes.
 *
 *   npx tsx bench/scheduler.ts [--nodes=2000] [--paced-ms=30000] [--interval-ms=15000] [--blast-frames=150000] [--blast-rounds=3] [--heap-snapshot=FILE]
 *
 * `--heap-snapshot=FILE` writes a V8 heap snapshot of the scheduler process once its nodes are
 * registered (after the GC of the memory measurement), to see what the memory per node is made of.
 */
import { cpus } from 'node:os';
import type { NodesCommand } from './scheduler-nodes.js';
import type { GcReply, MemoryFigures, ServerCommand, ServerStats } from './scheduler-server.js';
import { argNumber, fmt, report, summarize } from './stats.js';
import { startBenchProcess } from './bench-process.js';
import type { Endpoint } from './bench-process.js';

const NODES = argNumber('nodes', 2_000);
const PACED_MS = argNumber('paced-ms', 30_000);
const BLAST_FRAMES = argNumber('blast-frames', 150_000);
const BLAST_ROUNDS = argNumber('blast-rounds', 3);
const INTERVAL_MS = argNumber('interval-ms', 15_000);
/** A capability change every this many heartbeats of a node. */
const CHANGE_EVERY = argNumber('change-every', 4);
const HEAP_SNAPSHOT = process.argv.find((a) => a.startsWith('--heap-snapshot='))?.slice('--heap-snapshot='.length);

type Mode = 'baseline' | 'validating' | 'scheduler';

interface Fleet {
  mode: Mode;
  server: Endpoint;
  nodes: Endpoint;
  connectMs: number;
  burstMs: number;
  /** Once registered, after the first full GC: still holding the burst's free heap. */
  burst: PerNode;
  /** Once registered, after the heap settled (full GCs until it stops shrinking). */
  settled: PerNode & { gcs: number };
  rssBefore: number;
  heapBefore: number;
}

/** Memory per node: RSS, JS heap used and V8 heap committed (used, free space between live objects, young generation). */
interface PerNode {
  bytes: number;
  heap: number;
  heapTotal: number;
}

function perNode(after: MemoryFigures, before: MemoryFigures): PerNode {
  return { bytes: (after.rssBytes - before.rssBytes) / NODES, heap: (after.heapUsedBytes - before.heapUsedBytes) / NODES, heapTotal: (after.heapTotalBytes - before.heapTotalBytes) / NODES };
}

interface RunResult extends Omit<Fleet, 'server' | 'nodes' | 'rssBefore' | 'heapBefore'> {
  steadyBytesPerNode: number;
  steadyHeapPerNode: number;
  paced: { p50: number; p99: number; max: number; loopDelayP99Ms: number; n: number };
  blast: { handledPerSec: number; rates: number[]; p50: number; p99: number };
}

/** A server of `mode` with its own client process, N nodes connected, registered and heartbeating. */
async function startFleet(mode: Mode): Promise<Fleet> {
  const server = await startBenchProcess('./scheduler-server.ts', [mode]);
  const port = server.hello.port as number;
  const nodes = await startBenchProcess('./scheduler-nodes.ts', []);
  const srv = server.endpoint;
  const before = (await srv.request<GcReply>({ cmd: 'gc' } satisfies ServerCommand)).settled;
  const connected = await nodes.endpoint.request<{ connectMs: number; burstMs: number }>({ cmd: 'connect', url: `ws://127.0.0.1:${port}/ws/node`, count: NODES, expectAcks: mode === 'scheduler' } satisfies NodesCommand);
  await waitForHandled(srv, 3 * NODES);
  const after = await srv.request<GcReply>({ cmd: 'gc' } satisfies ServerCommand);
  if (HEAP_SNAPSHOT && mode === 'scheduler') await srv.request({ cmd: 'snapshot', path: HEAP_SNAPSHOT } satisfies ServerCommand);
  await srv.request<ServerStats>({ cmd: 'stats', reset: true } satisfies ServerCommand);
  return {
    mode,
    server: srv,
    nodes: nodes.endpoint,
    connectMs: connected.connectMs,
    burstMs: connected.burstMs,
    burst: perNode(after.first, before),
    settled: { ...perNode(after.settled, before), gcs: after.settled.gcs },
    rssBefore: before.rssBytes,
    heapBefore: before.heapUsedBytes,
  };
}

async function pacedPhase(fleet: Fleet): Promise<Pick<RunResult, 'paced' | 'steadyBytesPerNode' | 'steadyHeapPerNode'>> {
  await fleet.nodes.request({ cmd: 'paced', intervalMs: INTERVAL_MS, durationMs: PACED_MS, changeEvery: CHANGE_EVERY } satisfies NodesCommand);
  const paced = await fleet.server.request<ServerStats>({ cmd: 'stats', reset: true } satisfies ServerCommand);
  const summary = summarize(paced.samples);
  // The first GC's figures: after the paced phase the heap holds no burst's leftovers to give back.
  const steady = (await fleet.server.request<GcReply>({ cmd: 'gc' } satisfies ServerCommand)).first;
  return {
    paced: { p50: summary.p50, p99: summary.p99, max: summary.max, loopDelayP99Ms: paced.loopDelayP99Ms, n: summary.n },
    steadyBytesPerNode: (steady.rssBytes - fleet.rssBefore) / NODES,
    steadyHeapPerNode: (steady.heapUsedBytes - fleet.heapBefore) / NODES,
  };
}

/**
 * One saturation round: the fleet's nodes send BLAST_FRAMES heartbeats as fast as their sockets
 * drain. Loopback buffers absorb what the server does not read yet, so the rate is the server's,
 * from its first to its last handled heartbeat, once it has drained.
 */
async function blastRound(fleet: Fleet): Promise<{ rate: number; samples: number[] }> {
  await fleet.nodes.request({ cmd: 'blast', frames: BLAST_FRAMES, changeEvery: 10 } satisfies NodesCommand);
  await waitForDrain(fleet.server);
  const stats = await fleet.server.request<ServerStats>({ cmd: 'stats', reset: true } satisfies ServerCommand);
  return { rate: stats.handled / Math.max(1e-3, (stats.lastAt - stats.firstAt) / 1000), samples: stats.samples };
}

async function stopFleet(fleet: Fleet): Promise<void> {
  await fleet.nodes.request({ cmd: 'close' } satisfies NodesCommand).catch(() => undefined);
  await fleet.server.request({ cmd: 'stop' } satisfies ServerCommand).catch(() => undefined);
}

/**
 * Every mode's fleet stays up; the paced phases run one after the other, and the saturation rounds
 * take turns (baseline, validating, scheduler, again…), so a drift in the machine's speed over
 * the run weighs on every mode alike. A round of each takes well under the 45 s after which the
 * scheduler would declare silent nodes offline.
 */
async function runAll(modes: Mode[]): Promise<Record<Mode, RunResult>> {
  const fleets: Fleet[] = [];
  try {
    // Each fleet's paced phase right after it starts: a scheduler whose nodes stayed silent for
    // 45 s while other fleets were measured would have declared them offline.
    const paced = new Map<Mode, Awaited<ReturnType<typeof pacedPhase>>>();
    for (const mode of modes) {
      const fleet = await startFleet(mode);
      fleets.push(fleet);
      paced.set(mode, await pacedPhase(fleet));
    }
    const rounds = new Map<Mode, Array<{ rate: number; samples: number[] }>>(modes.map((m) => [m, []]));
    for (let round = 0; round < BLAST_ROUNDS; round++) for (const fleet of fleets) rounds.get(fleet.mode)!.push(await blastRound(fleet));
    const results = {} as Record<Mode, RunResult>;
    for (const fleet of fleets) {
      const sorted = [...rounds.get(fleet.mode)!].sort((a, b) => a.rate - b.rate);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const summary = summarize(median.samples);
      const { server: _server, nodes: _nodes, rssBefore: _rss, heapBefore: _heap, ...rest } = fleet;
      results[fleet.mode] = { ...rest, ...paced.get(fleet.mode)!, blast: { handledPerSec: median.rate, rates: rounds.get(fleet.mode)!.map((r) => r.rate), p50: summary.p50, p99: summary.p99 } };
    }
    return results;
  } finally {
    for (const fleet of fleets) await stopFleet(fleet);
  }
}

/** Waits (bounded) until the server's count of handled heartbeats stops moving. */
async function waitForDrain(server: Endpoint): Promise<void> {
  const deadline = Date.now() + 300_000;
  let last = -1;
  for (;;) {
    const stats = await server.request<ServerStats>({ cmd: 'stats', reset: false } satisfies ServerCommand);
    if (stats.handled === last || Date.now() > deadline) return;
    last = stats.handled;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Waits (bounded) until the server handled `count` heartbeats: the first ones after registration. */
async function waitForHandled(server: Endpoint, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stats = await server.request<ServerStats>({ cmd: 'stats', reset: false } satisfies ServerCommand);
    if (stats.handled >= count || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} KB`;
const figures = (p: PerNode) => `${kb(p.bytes)} RSS, ${kb(p.heap)} JS heap (${kb(p.heapTotal)} committed)`;
const ms = (value: number) => `${fmt(value, 3)} ms`;

async function main(): Promise<void> {
  console.log(`scheduler benchmark: ${NODES} nodes, heartbeat every ${INTERVAL_MS} ms for ${PACED_MS} ms, saturation ${BLAST_ROUNDS} × ${BLAST_FRAMES} heartbeats`);
  console.log(`${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}): the server, the simulated nodes and this orchestrator share them, so every number here includes that contention.`);
  const { baseline, validating, scheduler } = await runAll(['baseline', 'validating', 'scheduler']);
  for (const result of [baseline, validating, scheduler]) {
    if (result.paced.n === 0 || result.blast.handledPerSec === 0) throw new Error(`${result.mode}: no heartbeat was handled; the measurement is void`);
  }
  const ratio = scheduler.blast.handledPerSec / baseline.blast.handledPerSec;
  const validatingRatio = scheduler.blast.handledPerSec / validating.blast.handledPerSec;
  const pacedRate = NODES / (INTERVAL_MS / 1000);
  report('registration', [
    ['connect N sockets (client side)', `${fmt(scheduler.connectMs, 0)} ms`],
    ['registration burst (all N register at once → last ack)', `${fmt(scheduler.burstMs, 0)} ms (${fmt(NODES / (scheduler.burstMs / 1000), 0)} registrations/s)`],
  ]);
  report('memory of the server process after a GC, per node (its socket included)', [
    ['bare ws baseline, once connected (settled)', figures(baseline.settled)],
    ['scheduler, right after the registration burst (first full GC)', `${figures(scheduler.burst)}  (transient: the burst's free heap not yet given back)`],
    [`scheduler, once all registered, heap settled (${scheduler.settled.gcs} full GCs)`, `${figures(scheduler.settled)}  (goal < 20 KB RSS: ${scheduler.settled.bytes < 20 * 1024 ? 'met' : 'NOT met'})`],
    ['bare ws baseline, after the paced phase', `${kb(baseline.steadyBytesPerNode)} RSS, ${kb(baseline.steadyHeapPerNode)} JS heap`],
    ['scheduler, after the paced phase', `${kb(scheduler.steadyBytesPerNode)} RSS, ${kb(scheduler.steadyHeapPerNode)} JS heap  (goal < 20 KB RSS: ${scheduler.steadyBytesPerNode < 20 * 1024 ? 'met' : 'NOT met'})`],
    ['scheduler minus baseline (node state alone), after the paced phase', `${kb(scheduler.steadyBytesPerNode - baseline.steadyBytesPerNode)} RSS, ${kb(scheduler.steadyHeapPerNode - baseline.steadyHeapPerNode)} JS heap`],
  ]);
  report(`paced: ${NODES} nodes × ${INTERVAL_MS} ms interval ≈ ${fmt(pacedRate, 0)} heartbeats/s, a capability change every ${CHANGE_EVERY} heartbeats`, [
    ['heartbeats measured', String(scheduler.paced.n)],
    ['baseline handling (JSON.parse) p50 / p99', `${ms(baseline.paced.p50)} / ${ms(baseline.paced.p99)}`],
    ['validating baseline handling p50 / p99', `${ms(validating.paced.p50)} / ${ms(validating.paced.p99)}`],
    ['scheduler handling p50 / p99 / max', `${ms(scheduler.paced.p50)} / ${ms(scheduler.paced.p99)} / ${ms(scheduler.paced.max)}  (goal p99 < 10 ms${NODES >= 10_000 ? '' : ' at 10 000 nodes: run --nodes=10000'}: ${scheduler.paced.p99 < 10 ? 'met' : 'NOT met'})`],
    ['event-loop delay p99 (baseline / scheduler)', `${ms(baseline.paced.loopDelayP99Ms)} / ${ms(scheduler.paced.loopDelayP99Ms)}`],
  ]);
  const rates = (r: RunResult) => `${fmt(r.blast.handledPerSec, 0)} heartbeats/s (median of ${r.blast.rates.map((x) => fmt(x, 0)).join(', ')})`;
  report(`saturation: ${BLAST_ROUNDS} rounds per server, taking turns, of ${BLAST_FRAMES} heartbeats sent as fast as the sockets drain (a capability change every 10)`, [
    ['bare ws baseline (JSON.parse only)', rates(baseline)],
    ['bare ws + protocol validation (JSON + zod)', rates(validating)],
    ['linguamesh scheduler', rates(scheduler)],
    ['scheduler handling under saturation p50 / p99', `${ms(scheduler.blast.p50)} / ${ms(scheduler.blast.p99)}`],
    ['ratio scheduler / JSON.parse baseline', `${fmt(ratio)}  (goal ≥ 0.3: ${ratio >= 0.3 ? 'met' : 'NOT met'})`],
    ['ratio scheduler / validating baseline', `${fmt(validatingRatio)}`],
  ]);
  console.log(
    '\nnote: the scheduler validates only what changed since a node\'s previous heartbeat (its capability report is compared with the last one parsed),' +
      ' which is why it can outrun the validating baseline, which runs the full zod parse on every frame.',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
