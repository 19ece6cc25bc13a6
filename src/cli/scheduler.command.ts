/**
 * `linguamesh scheduler`: runs one scheduler instance until SIGINT/SIGTERM
 * (src/cli/scheduler.action.ts, loaded when it runs).
 */
import type { Command } from 'commander';
import { DEFAULT_SCHEDULER_CONFIG } from '../actors/scheduler/scheduler.defaults.js';
import { addRoleOptions } from './role-command.js';
import type { CommonRoleFlags } from './role-command.js';
import { minMsFlag, portFlag, positiveMsFlag } from './flag-values.js';

export interface SchedulerFlags extends CommonRoleFlags {
  port?: number;
  host?: string;
  allowCpuNodes?: boolean;
  authToken?: string;
  store?: string;
  instanceLeaseMs?: number;
  reservationLeaseMs?: number;
  fleetResyncMs?: number;
}

export function registerSchedulerCommand(program: Command): void {
  const command = program
    .command('scheduler')
    .description('run a scheduler (node registry, language-pair pools, dispatch, client sessions)')
    .option('--port <port>', `TCP port of HTTP, /ws/node and /ws/session (0 picks a free one; default ${DEFAULT_SCHEDULER_CONFIG.port})`, portFlag)
    .option('--host <host>', `interface to listen on (default ${DEFAULT_SCHEDULER_CONFIG.host})`)
    .option('--allow-cpu-nodes', 'accept nodes without a GPU (allow_cpu_nodes)')
    .option('--auth-token <token>', 'shared secret nodes and clients must present (or LINGUAMESH_SCHEDULER_AUTH_TOKEN, LINGUAMESH_AUTH_TOKEN)')
    .option('--store <store>', `capability store: memory or a redis:// URL (default ${DEFAULT_SCHEDULER_CONFIG.store})`)
    .option('--instance-lease-ms <ms>', `with a Redis store: this instance's lease in the fleet, renewed every third of it (default ${DEFAULT_SCHEDULER_CONFIG.instanceLeaseMs})`, minMsFlag(300))
    .option('--reservation-lease-ms <ms>', `with a Redis store: lease of a dispatch slot taken on a node (default ${DEFAULT_SCHEDULER_CONFIG.reservationLeaseMs})`, minMsFlag(300))
    .option('--fleet-resync-ms <ms>', `with a Redis store: period of the full re-read of the fleet's nodes (default ${DEFAULT_SCHEDULER_CONFIG.fleetResyncMs})`, positiveMsFlag);
  addRoleOptions(command, 'scheduler').action(async (flags: SchedulerFlags, self: Command) => {
    const { runScheduler } = await import('./scheduler.action.js');
    await runScheduler(flags, self);
  });
}
