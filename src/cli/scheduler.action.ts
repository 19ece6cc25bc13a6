/**
 * What `linguamesh scheduler` runs (its flags: src/cli/scheduler.command.ts): one scheduler until
 * SIGINT/SIGTERM. The scheduler's code loads once the configuration is known (not for `--print-config`).
 */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import { commandLogger, loadCommandConfig, printConfigIfAsked, runUntilStopped } from './role.action.js';
import type { SchedulerFlags } from './scheduler.command.js';

const FLAG_NAMES = {
  port: '--port',
  host: '--host',
  allowCpuNodes: '--allow-cpu-nodes',
  authToken: '--auth-token',
  store: '--store',
  instanceLeaseMs: '--instance-lease-ms',
  reservationLeaseMs: '--reservation-lease-ms',
  fleetResyncMs: '--fleet-resync-ms',
};

export async function runScheduler(flags: SchedulerFlags, self: Command): Promise<void> {
  const keys = {
    port: flags.port,
    host: flags.host,
    allowCpuNodes: flags.allowCpuNodes,
    authToken: flags.authToken,
    store: flags.store,
    instanceLeaseMs: flags.instanceLeaseMs,
    reservationLeaseMs: flags.reservationLeaseMs,
    fleetResyncMs: flags.fleetResyncMs,
  };
  const config = loadCommandConfig(self, 'scheduler', flags, keys, { flagNames: FLAG_NAMES });
  if (printConfigIfAsked(flags, config)) return;
  const { startScheduler } = await import('./embedding.js');
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
}
