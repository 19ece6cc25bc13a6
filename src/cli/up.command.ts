/**
 * `linguamesh up [--demo]`: a hub, a scheduler and a node in this process on loopback, with the
 * reference services published and installed as packages (`startAll`); prints the URLs and serves
 * until SIGINT/SIGTERM, then stops node, scheduler and hub in that order; when one of them stops on
 * its own it stops the others and exits 1. With `--demo` it runs one
 * session with the bundled speech fixtures once ready, prints what came back, stops, and exits 0
 * when every utterance came back (1 otherwise).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createLogger } from '../kernel/logger.js';
import { toKernelError } from '../kernel/errors.js';
import { DEFAULT_ALL_OPTIONS, startAll } from './start-all.js';
import type { AllHandle, AllUrls } from './start-all.js';
import { runDemo } from './up-demo.js';
import { createProgressView } from './up-progress.js';

interface UpFlags {
  demo: boolean;
  dataDir: string;
  port: number;
  hubPort: number;
  nodePort: number;
  heartbeatIntervalMs: number;
  logLevel: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a TCP port (0–65535)');
  return n;
}

function positiveMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number of milliseconds above 0');
  return n;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

function printUrls(urls: AllUrls, dataDir: string, cpuNodesAllowed: boolean | undefined, seconds: number): void {
  out(`linguamesh up: ready in ${seconds.toFixed(1)} s (data dir ${dataDir})`);
  out(`  scheduler  ${urls.scheduler}  (nodes ${urls.schedulerNodeWs}, sessions ${urls.schedulerSessionWs})`);
  out(`  hub        ${urls.hub}`);
  out(`  node       ${urls.node}  (linguamesh pkg list --node ${urls.node})`);
  if (cpuNodesAllowed) out('  no GPU found: CPU nodes allowed, the reference services run on the CPU');
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function untilSignal(): { signalled: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (signal: NodeJS.Signals) => void;
  const signalled = new Promise<NodeJS.Signals>((r) => (resolve = r));
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (seen) {
      process.stderr.write(`up: ${signal} again: exiting without waiting for the shutdown\n`);
      process.exit(1);
    }
    seen = true;
    process.stderr.write(`up: ${signal}: stopping node, scheduler and hub\n`);
    resolve(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signalled,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

async function run(flags: UpFlags): Promise<number> {
  const dataDir = resolve(flags.dataDir);
  const logger = createLogger({ level: flags.logLevel, format: 'json', destination: process.stderr });
  const progress = createProgressView();
  const signals = untilSignal();
  const begun = Date.now();
  let handle: AllHandle | undefined;
  try {
    handle = startAll({
      dataDir,
      schedulerPort: flags.port,
      hubPort: flags.hubPort,
      nodePort: flags.nodePort,
      heartbeatIntervalMs: flags.heartbeatIntervalMs,
      logger,
      onProgress: (event) => progress.show(event),
    });
    const started = await Promise.race([handle.ready, signals.signalled.then(() => undefined)]);
    progress.close();
    if (started === undefined) return 0;
    const status = await handle.status();
    printUrls(started, dataDir, status.cpuNodesAllowed, (Date.now() - begun) / 1000);
    if (flags.demo) {
      const report = await runDemo({ sessionUrl: started.schedulerSessionWs, outDir: join(dataDir, 'demo'), print: out });
      if (report.failures.length > 0) {
        process.stderr.write(`up --demo: ${report.failures.length} utterance(s) did not come back:\n${report.failures.map((f) => `  ${f}`).join('\n')}\n`);
        return 1;
      }
      return 0;
    }
    out('serving; Ctrl-C (SIGINT) or SIGTERM stops it');
    const outcome = await Promise.race([signals.signalled.then(() => undefined), handle.done]);
    if (outcome?.reason === 'role_ended') {
      const { role, exit } = outcome;
      const why = exit.reason === 'failed' ? `${exit.error.code}: ${exit.error.message}` : exit.reason;
      process.stderr.write(`up: the ${role} stopped on its own (${why}); stopped the others\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    progress.close();
    const error = toKernelError(err);
    process.stderr.write(`up: ${error.code}: ${error.message}\n`);
    return 1;
  } finally {
    const stopping = Date.now();
    await handle?.stop();
    signals.dispose();
    process.stderr.write(`up: stopped node, scheduler and hub in ${((Date.now() - stopping) / 1000).toFixed(1)} s\n`);
  }
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run a hub, a scheduler and a node on loopback, with the reference services installed as packages')
    .option('--demo', 'once ready, translate the bundled speech fixtures (en → es) in one session, print the results, stop', false)
    .option('--data-dir <dir>', 'hub storage, node state, builds and demo output', DEFAULT_ALL_OPTIONS.dataDir)
    .option('--port <port>', 'scheduler port: HTTP, /ws/node, /ws/session (0 picks a free one)', port, DEFAULT_ALL_OPTIONS.schedulerPort)
    .option('--hub-port <port>', 'hub port (0 picks a free one)', port, DEFAULT_ALL_OPTIONS.hubPort)
    .option('--node-port <port>', "node control endpoint's port (0 picks a free one)", port, DEFAULT_ALL_OPTIONS.nodePort)
    .option('--heartbeat-interval-ms <ms>', 'heartbeat period the scheduler asks of the node (a fleet uses 15000)', positiveMs, DEFAULT_ALL_OPTIONS.heartbeatIntervalMs)
    .option('--log-level <level>', 'pino log level of the JSON logs on stderr', process.env.LOG_LEVEL ?? 'warn')
    .action(async (flags: UpFlags) => {
      process.exitCode = await run(flags);
    });
}
