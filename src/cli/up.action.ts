/**
 * What `linguamesh up` runs (its flags: src/cli/up.command.ts): `startAll` until SIGINT/SIGTERM or
 * one of its roles stops on its own, or, with `--demo`, one demo session once it is ready.
 */
import { join, resolve } from 'node:path';
import { createLogger } from '../kernel/logger.js';
import { toKernelError } from '../kernel/errors.js';
import { startAll } from './start-all.js';
import type { AllHandle, AllUrls } from './start-all.js';
import type { UpFlags } from './up.command.js';
import { runDemo } from './up-demo.js';
import { createProgressView } from './up-progress.js';

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

/** Runs `linguamesh up`; resolves the exit code. */
export async function runUp(flags: UpFlags): Promise<number> {
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
