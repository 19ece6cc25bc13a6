/** `linguamesh hub`: runs the model hub until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import { startHub } from './embedding.js';
import { addRoleOptions, commandLogger, loadCommandConfig, printConfigIfAsked, runUntilStopped } from './role-command.js';
import type { CommonRoleFlags } from './role-command.js';
import { DEFAULT_HUB_OPTIONS } from './start-hub.js';

interface HubFlags extends CommonRoleFlags {
  port?: number;
  host?: string;
  storage?: string;
  rescanIntervalMs?: number;
}

/** The hub's storage when no source names one: `./storage` in the working directory. */
const CLI_DEFAULT_STORAGE = './storage';

const FLAG_NAMES = { port: '--port', host: '--host', storageDir: '--storage', rescanIntervalMs: '--rescan-interval-ms' };

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
    return n;
  };
}

export function registerHubCommand(program: Command): void {
  const command = program
    .command('hub')
    .description('run a model hub (versioned service packages over HTTP, PROTOCOL.md §10)')
    .option('--port <port>', `TCP port (0: any free port; default ${DEFAULT_HUB_OPTIONS.port})`, integer('--port'))
    .option('--host <host>', `interface to listen on (default ${DEFAULT_HUB_OPTIONS.host})`)
    .option('--storage <dir>', `package storage directory (default ${CLI_DEFAULT_STORAGE})`)
    .option('--rescan-interval-ms <ms>', `period of the storage rescans (default ${DEFAULT_HUB_OPTIONS.rescanIntervalMs})`, integer('--rescan-interval-ms'));
  addRoleOptions(command, 'hub').action(async (flags: HubFlags, self: Command) => {
    const keys = { port: flags.port, host: flags.host, storageDir: flags.storage, rescanIntervalMs: flags.rescanIntervalMs };
    const config = loadCommandConfig(self, 'hub', flags, keys, { defaults: { storageDir: CLI_DEFAULT_STORAGE }, flagNames: FLAG_NAMES });
    if (printConfigIfAsked(flags, config)) return;
    const logger = commandLogger(config);
    const hub = startHub({ ...config, logger });
    const exit = runUntilStopped('hub', hub, logger);
    try {
      const { port } = await hub.ready;
      logger.info({ port, host: config.host, storage: config.storageDir }, 'hub listening');
    } catch (err) {
      logger.fatal({ err, code: isKernelError(err) ? err.code : undefined }, 'hub could not start');
      await hub.stop();
      process.exitCode = 1;
      return;
    }
    const { reason } = await exit;
    logger.info('hub stopped');
    if (reason !== 'shutdown') process.exitCode = 1;
  });
}
