/**
 * `linguamesh scheduler`: runs one scheduler instance until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createLogger } from '../kernel/logger.js';
import { isKernelError } from '../kernel/errors.js';
import { DEFAULT_SCHEDULER_CONFIG } from '../actors/scheduler/scheduler-options.js';
import { startScheduler } from './start-scheduler.js';
import type { SchedulerHandle } from './start-scheduler.js';

interface SchedulerFlags {
  port: number;
  host: string;
  allowCpuNodes: boolean;
  authToken?: string;
  store: string;
  logLevel: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a TCP port (0–65535)');
  return n;
}

export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description('run a scheduler (node registry, language-pair pools, dispatch, client sessions)')
    .option('--port <port>', 'TCP port of HTTP, /ws/node and /ws/session (0 picks a free one)', port, DEFAULT_SCHEDULER_CONFIG.port)
    .option('--host <host>', 'interface to listen on', DEFAULT_SCHEDULER_CONFIG.host)
    .option('--allow-cpu-nodes', 'accept nodes without a GPU (allow_cpu_nodes)', false)
    .option('--auth-token <token>', 'shared secret nodes and clients must present (or LINGUAMESH_AUTH_TOKEN)')
    .option('--store <store>', 'capability store: memory or a redis:// URL', DEFAULT_SCHEDULER_CONFIG.store)
    .option('--log-level <level>', 'pino log level', process.env.LOG_LEVEL ?? 'info')
    .action(async (flags: SchedulerFlags) => {
      const logger = createLogger({ level: flags.logLevel });
      let scheduler: SchedulerHandle | undefined;
      try {
        scheduler = startScheduler({
          port: flags.port,
          host: flags.host,
          allowCpuNodes: flags.allowCpuNodes,
          authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN,
          store: flags.store,
          logger,
          signals: 'process',
        });
        await scheduler.ready;
      } catch (err) {
        logger.fatal({ err, code: isKernelError(err) ? err.code : undefined }, 'scheduler could not start');
        await scheduler?.stop();
        process.exitCode = 1;
        return;
      }
      const exit = await scheduler.done;
      await scheduler.stop();
      if (exit.reason !== 'shutdown') process.exitCode = 1;
    });
}
