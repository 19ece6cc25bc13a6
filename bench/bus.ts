/**
 * Kernel benchmark (issue "Microkernel"): (1) bus publish → deliver throughput against plain
 * eventemitter3 in the same run, printed as a ratio (goal ≥ 0.5); (2) time from a child's crash to
 * its replacement being started under a supervisor with backoff 0, p50 and p99 (goal p99 < 1 ms).
 *
 *   npx tsx bench/bus.ts [--events=2000000] [--restarts=5000]
 */
import { performance } from 'node:perf_hooks';
import { EventEmitter } from 'eventemitter3';
import { createActor, setup } from 'xstate';
import { createBus } from '../src/kernel/bus.js';
import type { BusEvent } from '../src/kernel/bus.js';
import { systemClock } from '../src/kernel/clock.js';
import { supervisorMachine } from '../src/kernel/supervisor.js';
import { argNumber, fmt, report, summarize } from './stats.js';

const EVENTS = argNumber('events', 2_000_000);
const RESTARTS = argNumber('restarts', 5_000);

function throughput(run: () => number): number {
  const start = performance.now();
  const delivered = run();
  return delivered / ((performance.now() - start) / 1000);
}

function benchBus(): void {
  const event: BusEvent = { type: 'job.assigned', jobId: 'job-1', attemptId: 1 };
  const plainRun = () => {
    const ee = new EventEmitter();
    let n = 0;
    ee.on('job.assigned', () => n++);
    ee.on('job.assigned', () => n++);
    for (let i = 0; i < EVENTS; i++) ee.emit(event.type, event);
    return n;
  };
  const busRun = () => {
    const bus = createBus();
    let n = 0;
    bus.subscribe('job.assigned', () => n++);
    bus.subscribe('job.assigned', () => n++);
    for (let i = 0; i < EVENTS; i++) bus.publish(event);
    return n;
  };
  // Warm both paths, then alternate the measured runs so neither gets a systematically warmer JIT.
  plainRun();
  busRun();
  const plain: number[] = [];
  const bus: number[] = [];
  for (let round = 0; round < 5; round++) {
    plain.push(throughput(plainRun));
    bus.push(throughput(busRun));
  }
  const p = summarize(plain).p50;
  const b = summarize(bus).p50;
  report('bus publish → deliver (2 subscribers)', [
    ['events per run', String(EVENTS)],
    ['plain eventemitter3 (baseline)', `${fmt(p / 1e6)} M deliveries/s`],
    ['linguamesh bus', `${fmt(b / 1e6)} M deliveries/s`],
    ['ratio bus / baseline', `${fmt(b / p)}  (goal ≥ 0.5: ${b / p >= 0.5 ? 'met' : 'NOT met'})`],
  ]);
}

async function benchRestart(): Promise<void> {
  const crashable = setup({ types: {} as { events: { type: 'crash' } } }).createMachine({
    on: {
      crash: {
        actions: () => {
          throw new Error('crash');
        },
      },
    },
  });
  const root = createActor(supervisorMachine, {
    clock: systemClock,
    input: { id: 'bench', strategy: 'one_for_one', clock: systemClock, children: [{ id: 'w', logic: crashable, minBackoffMs: 0, maxRestarts: 1_000, withinMs: 50 }] },
  });
  const samples: number[] = [];
  let crashedAt = 0;
  let resolveStarted: (() => void) | undefined;
  root.on('supervisor.childStarted', () => {
    if (crashedAt > 0) samples.push(performance.now() - crashedAt);
    resolveStarted?.();
  });
  root.subscribe({ error: (err) => console.error('bench supervisor failed', err) });
  root.start();
  // The first few thousand restarts run while V8 is still optimising XState's transition code;
  // they are run but not measured.
  const warmup = Math.max(3_000, RESTARTS / 2);
  for (let i = 0; i < warmup + RESTARTS; i++) {
    if (i === warmup) samples.length = 0;
    const started = new Promise<void>((resolve) => (resolveStarted = resolve));
    const child = root.getSnapshot().context.live.w!.ref;
    crashedAt = performance.now();
    child.send({ type: 'crash' });
    await started;
  }
  root.stop();
  const s = summarize(samples);
  report('crash → replacement started (backoff 0)', [
    ['restarts measured', String(s.n)],
    ['p50', `${fmt(s.p50)} ms`],
    ['p99', `${fmt(s.p99)} ms  (goal < 1 ms: ${s.p99 < 1 ? 'met' : 'NOT met'})`],
    ['max', `${fmt(s.max)} ms`],
  ]);
}

benchBus();
await benchRestart();
