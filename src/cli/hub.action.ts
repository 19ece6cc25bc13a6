/**
 * What `linguamesh hub` runs (its flags: src/cli/hub.command.ts): the model hub until SIGINT/SIGTERM.
 * The hub's code loads once the configuration is known (not for `--print-config`).
 */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import { CLI_DEFAULT_STORAGE } from './hub.command.js';
import type { HubFlags } from './hub.command.js';
import { commandLogger, loadCommandConfig, printConfigIfAsked, runUntilStopped } from './role.action.js';

const FLAG_NAMES = { port: '--port', host: '--host', storageDir: '--storage', rescanIntervalMs: '--rescan-interval-ms' };

export async function runHub(flags: HubFlags, self: Command): Promise<void> {
  const keys = { port: flags.port, host: flags.host, storageDir: flags.storage, rescanIntervalMs: flags.rescanIntervalMs };
  const config = loadCommandConfig(self, 'hub', flags, keys, { defaults: { storageDir: CLI_DEFAULT_STORAGE }, flagNames: FLAG_NAMES });
  if (printConfigIfAsked(flags, config)) return;
  const { startHub } = await import('./embedding.js');
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
}
