/**
 * One scheduler instance of bench/fleet.ts, in a process of its own: `startScheduler` with the store
 * given in argv[2] (`memory` or a redis:// URL: then it joins the fleet), on the real clock, with
 * node liveness set beyond the bench's length (its simulated nodes pause between phases). It counts
 * the heartbeats it handles, its CPU time, and answers the orchestrator's IPC commands.
 */
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/kernel/logger.js';
import { startScheduler } from '../src/cli/start-scheduler.js';

export type FleetServerCommand = { cmd: 'stats'; reset: boolean } | { cmd: 'stop' };
export interface FleetServerStats {
  /** Heartbeats handled since the last reset. */
  handled: number;
  /** Wall time (ms since the epoch) of the first and last heartbeat handled since the last reset. */
  firstAt: number;
  lastAt: number;
  /** CPU time of this process (user + system) since the last reset, ms. */
  cpuMs: number;
  /** Ready nodes this instance can dispatch to (its own and the fleet's), from its pools. */
  nodes: number;
}

const store = process.argv[2] ?? 'memory';
let handled = 0;
let firstAt = 0;
let lastAt = 0;
let cpuSince = process.cpuUsage();

const scheduler = startScheduler({
  host: '127.0.0.1',
  port: 0,
  store,
  logger: silentLogger(),
  heartbeatTimeoutMs: 1_800_000,
  wsIdleTimeoutMs: 1_800_000,
  storeTtlMs: 3_600_000,
  offlineRetentionMs: 1_800_000,
  observeFrame: (type) => {
    if (type !== 'node_heartbeat') return;
    const now = performance.timeOrigin + performance.now();
    if (handled === 0) firstAt = now;
    lastAt = now;
    handled++;
  },
});

async function main(): Promise<void> {
  await scheduler.ready;
  process.on('message', (command: FleetServerCommand) => {
    switch (command.cmd) {
      case 'stats': {
        const cpu = process.cpuUsage(cpuSince);
        const nodes = new Set(scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: true, use_tts: true } })).size;
        const stats: FleetServerStats = { handled, firstAt, lastAt, cpuMs: (cpu.user + cpu.system) / 1000, nodes };
        process.send?.(stats);
        if (command.reset) {
          handled = 0;
          cpuSince = process.cpuUsage();
        }
        break;
      }
      case 'stop':
        void scheduler.stop().then(() => {
          process.send?.({ stopped: true });
          process.exit(0);
        });
        break;
      default: {
        const never: never = command;
        return never;
      }
    }
  });
  process.send?.({ port: scheduler.port, instanceId: scheduler.instanceId });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
