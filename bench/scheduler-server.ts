/**
 * The server side of bench/scheduler.ts, in a process of its own so that its resident memory is its
 * own: `scheduler` runs the linguamesh scheduler (memory store, real clock); `baseline` runs a bare
 * `ws` server that only JSON-parses each text frame; `validating` a bare `ws` server that parses
 * each frame with the protocol's validating parser (`parseNodeToScheduler`: JSON and zod), the work
 * any correct receiver does at the door. Each times its handling of each heartbeat and answers the
 * orchestrator's IPC commands.
 */
import { createServer } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocketServer } from 'ws';
import { silentLogger } from '../src/kernel/logger.js';
import { startScheduler } from '../src/cli/start-scheduler.js';
import { parseNodeToScheduler } from '../src/protocol/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export type ServerCommand = { cmd: 'stats'; reset: boolean } | { cmd: 'gc' } | { cmd: 'snapshot'; path: string } | { cmd: 'stop' };
/** The process's memory after one full GC, and once the heap has settled. */
export interface GcReply {
  /** After the first full GC (two `gc()` calls, as V8 needs for weak references). */
  first: MemoryFigures;
  /** After full GCs repeated until the committed heap stops shrinking (at most `MAX_SETTLE_GCS`). */
  settled: MemoryFigures & { gcs: number };
}
export interface MemoryFigures {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
}

/**
 * A full GC compacts only the most fragmented pages of the old space, so right after a burst of
 * allocations the committed heap still holds the burst's free space between live objects. V8's
 * memory reducer runs further GCs on its own once a process goes quiet; this does the same at once,
 * stopping when a GC gives nothing back.
 */
const MAX_SETTLE_GCS = 8;
function memoryFigures(): MemoryFigures {
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal };
}
function collect(): GcReply {
  gc();
  gc();
  const first = memoryFigures();
  let settled = first;
  let gcs = 2;
  while (gcs < MAX_SETTLE_GCS) {
    gc();
    gcs++;
    const next = memoryFigures();
    const shrank = next.heapTotalBytes < settled.heapTotalBytes || next.rssBytes < settled.rssBytes - 1024 * 1024;
    settled = next;
    if (!shrank) break;
  }
  return { first, settled: { ...settled, gcs } };
}
export interface ServerStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** Heartbeats handled since the last reset. */
  handled: number;
  /** Time of the first and last handled heartbeat since the last reset, ms (performance clock). */
  firstAt: number;
  lastAt: number;
  /** Handling time of each heartbeat since the last reset, ms (at most MAX_SAMPLES, evenly kept). */
  samples: number[];
  /** Event-loop delay p99 since the last reset, ms. */
  loopDelayP99Ms: number;
}

const MAX_SAMPLES = 400_000;
const mode = process.argv[2] === 'baseline' || process.argv[2] === 'validating' ? process.argv[2] : 'scheduler';
let samples: number[] = [];
let handled = 0;
let firstAt = 0;
let lastAt = 0;
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

function record(ms: number): void {
  const now = performance.now();
  if (handled === 0) firstAt = now;
  lastAt = now;
  handled++;
  if (samples.length < MAX_SAMPLES) samples.push(ms);
}

function send(message: unknown): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  let stop: () => Promise<void>;
  let port: number;
  if (mode === 'baseline' || mode === 'validating') {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, maxPayload: 32 * 1024 * 1024, perMessageDeflate: false });
    wss.on('connection', (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const started = performance.now();
        if (mode === 'validating') {
          const parsed = parseNodeToScheduler(data as Buffer);
          if (parsed.ok && parsed.value.type === 'node_heartbeat') record(performance.now() - started);
          return;
        }
        const frame = JSON.parse((data as Buffer).toString('utf8')) as { type?: unknown };
        if (frame.type === 'node_heartbeat') record(performance.now() - started);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const address = http.address();
    port = typeof address === 'object' && address ? address.port : 0;
    stop = async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    };
  } else {
    const scheduler = startScheduler({
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      observeFrame: (type, ms) => {
        if (type === 'node_heartbeat') record(ms);
      },
    });
    await scheduler.ready;
    port = scheduler.port;
    stop = () => scheduler.stop();
  }

  process.on('message', (command: ServerCommand) => {
    switch (command.cmd) {
      case 'gc':
        send(collect() satisfies GcReply);
        break;
      case 'snapshot':
        // A heap snapshot, to see what the memory per node is made of (bench/scheduler.ts --heap-snapshot).
        send({ path: writeHeapSnapshot(command.path) });
        break;
      case 'stats': {
        const stats: ServerStats = { rssBytes: process.memoryUsage().rss, heapUsedBytes: process.memoryUsage().heapUsed, handled, firstAt, lastAt, samples, loopDelayP99Ms: loop.percentile(99) / 1e6 };
        send(stats);
        if (command.reset) {
          samples = [];
          handled = 0;
          loop.reset();
        }
        break;
      }
      case 'stop':
        void stop().then(() => {
          send({ stopped: true });
          process.exit(0);
        });
        break;
      default: {
        const never: never = command;
        return never;
      }
    }
  });
  send({ port });
}

void main();
