/** `linguamesh hub`: runs the model hub until SIGINT/SIGTERM (src/cli/hub.action.ts, loaded when it runs). */
import type { Command } from 'commander';
import { addRoleOptions } from './role-command.js';
import type { CommonRoleFlags } from './role-command.js';
import { DEFAULT_HUB_OPTIONS } from './start-hub.defaults.js';

export interface HubFlags extends CommonRoleFlags {
  port?: number;
  host?: string;
  storage?: string;
  rescanIntervalMs?: number;
}

/** The hub's storage when no source names one: `./storage` in the working directory. */
export const CLI_DEFAULT_STORAGE = './storage';

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
    const { runHub } = await import('./hub.action.js');
    await runHub(flags, self);
  });
}
