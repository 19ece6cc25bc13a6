/**
 * `linguamesh scheduler`: runs one scheduler instance until SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import { DEFAULT_SCHEDULER_CONFIG } from '../actors/scheduler/scheduler-options.js';
import { startScheduler } from './embedding.js';
import { addRoleOptions, commandLogger, loadCommandConfig, printConfigIfAsked, runUntilStopped } from './role-command.js';
import type { CommonRoleFlags } from './role-command.js';

interface SchedulerFlags extends CommonRoleFlags {
  port?: number;
  host?: string;
  allowCpuNodes?: boolean;
  authToken?: string;
  store?: string;
}

const FLAG_NAMES = { port: '--port', host: '--host', allowCpuNodes: '--allow-cpu-nodes', authToken: '--auth-token', store: '--store' };

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a TCP port (0–65535)');
  return n;
}

export function registerSchedulerCommand(program: Command): void {
  const command = program
    .command('scheduler')
    .description('run a scheduler (node registry, language-pair pools, dispatch, client sessions)')
    .option('--port <port>', `TCP port of HTTP, /ws/node and /ws/session (0 picks a free one; default ${DEFAULT_SCHEDULER_CONFIG.port})`, port)
    .option('--host <host>', `interface to listen on (default ${DEFAULT_SCHEDULER_CONFIG.host})`)
    .option('--allow-cpu-nodes', 'accept nodes without a GPU (allow_cpu_nodes)')
    .option('--auth-token <token>', 'shared secret nodes and clients must present (or LINGUAMESH_SCHEDULER_AUTH_TOKEN, LINGUAMESH_AUTH_TOKEN)')
    .option('--store <store>', `capability store: memory or a redis:// URL (default ${DEFAULT_SCHEDULER_CONFIG.store})`);
  addRoleOptions(command, 'scheduler').action(async (flags: SchedulerFlags, self: Command) => {
    const keys = { port: flags.port, host: flags.host, allowCpuNodes: flags.allowCpuNodes, authToken: flags.authToken, store: flags.store };
    const config = loadCommandConfig(self, 'scheduler', flags, keys, { flagNames: FLAG_NAMES });
    if (printConfigIfAsked(flags, config)) return;
    const logger = commandLogger(config);
    const scheduler = startScheduler({ ...config, logger });
    const exit = runUntilStopped('scheduler', scheduler, logger);
    try {
      await scheduler.ready;
    } catch (err) {
      logger.fatal({ err, code: isKernelError(err) ? err.code : undefined }, 'scheduler could not start');
      await scheduler.stop();
      process.exitCode = 1;
      return;
    }
    if ((await exit).reason !== 'shutdown') process.exitCode = 1;
  });
}
