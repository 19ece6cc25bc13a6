/** `linguamesh hub`: runs the model hub until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { createLogger } from '../kernel/logger.js';
import { DEFAULT_HUB_OPTIONS, startHub } from './start-hub.js';

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
    return n;
  };
}

export function registerHubCommand(program: Command): void {
  program
    .command('hub')
    .description('run a model hub (versioned service packages over HTTP, PROTOCOL.md §10)')
    .option('--port <port>', 'TCP port (0: any free port)', integer('--port'), DEFAULT_HUB_OPTIONS.port)
    .option('--host <host>', 'interface to listen on', DEFAULT_HUB_OPTIONS.host)
    .option('--storage <dir>', 'package storage directory', './storage')
    .option('--rescan-interval-ms <ms>', 'period of the storage rescans', integer('--rescan-interval-ms'), DEFAULT_HUB_OPTIONS.rescanIntervalMs)
    .action(async (opts: { port: number; host: string; storage: string; rescanIntervalMs: number }) => {
      const logger = createLogger({ base: { role: 'hub' } });
      const hub = await startHub({ port: opts.port, host: opts.host, storageDir: opts.storage, rescanIntervalMs: opts.rescanIntervalMs, logger });
      logger.info({ port: hub.port, host: hub.host, storage: opts.storage }, 'hub listening');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      logger.info('hub stopping');
      await hub.stop();
    });
}
