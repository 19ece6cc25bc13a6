/**
 * `linguamesh up [--demo]`: a hub, a scheduler and a node in this process on loopback, with the
 * reference services published and installed as packages (`startAll`); prints the URLs and serves
 * until SIGINT/SIGTERM, then stops node, scheduler and hub in that order; when one of them stops on
 * its own it stops the others and exits 1. With `--demo` it runs one
 * session with the bundled speech fixtures once ready, prints what came back, stops, and exits 0
 * when every utterance came back (1 otherwise). What it runs is in src/cli/up.action.ts, loaded
 * when it runs.
 */
import type { Command } from 'commander';
import { DEFAULT_ALL_OPTIONS } from './start-all.defaults.js';
import { portFlag, positiveMsFlag } from './flag-values.js';

export interface UpFlags {
  demo: boolean;
  dataDir: string;
  port: number;
  hubPort: number;
  nodePort: number;
  heartbeatIntervalMs: number;
  logLevel: string;
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run a hub, a scheduler and a node on loopback, with the reference services installed as packages')
    .option('--demo', 'once ready, translate the bundled speech fixtures (en → es) in one session, print the results, stop', false)
    .option('--data-dir <dir>', 'hub storage, node state, builds and demo output', DEFAULT_ALL_OPTIONS.dataDir)
    .option('--port <port>', 'scheduler port: HTTP, /ws/node, /ws/session (0 picks a free one)', portFlag, DEFAULT_ALL_OPTIONS.schedulerPort)
    .option('--hub-port <port>', 'hub port (0 picks a free one)', portFlag, DEFAULT_ALL_OPTIONS.hubPort)
    .option('--node-port <port>', "node control endpoint's port (0 picks a free one)", portFlag, DEFAULT_ALL_OPTIONS.nodePort)
    .option('--heartbeat-interval-ms <ms>', 'heartbeat period the scheduler asks of the node (a fleet uses 15000)', positiveMsFlag, DEFAULT_ALL_OPTIONS.heartbeatIntervalMs)
    .option('--log-level <level>', 'pino log level of the JSON logs on stderr', process.env.LOG_LEVEL ?? 'warn')
    .action(async (flags: UpFlags) => {
      const { runUp } = await import('./up.action.js');
      process.exitCode = await runUp(flags);
    });
}
