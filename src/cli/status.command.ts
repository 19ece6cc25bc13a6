/**
 * `linguamesh status`: what a scheduler knows now — nodes with their status and reason, services
 * per node, load and jobs in flight, pools — read from its `/api/v1` API and printed as tables, or
 * as one JSON object with `--json`. An unreachable scheduler is an error with a non-zero exit code.
 * What it runs is in src/cli/status.action.ts, loaded when it runs.
 */
import type { Command } from 'commander';
import { DEFAULT_SCHEDULER_API_CLIENT_OPTIONS } from '../adapters/scheduler-api-client.defaults.js';
import { positiveIntFlag } from './flag-values.js';

export interface StatusFlags {
  /** Base URL of the scheduler (`http://host:port`; `ws://` and a bare `host:port` are accepted). */
  scheduler: string;
  json: boolean;
  authToken?: string | undefined;
  /** Longest wait for each API answer, in ms. */
  timeoutMs: number;
}

export const DEFAULT_STATUS_FLAGS = {
  scheduler: 'http://127.0.0.1:5010',
  json: false,
  timeoutMs: DEFAULT_SCHEDULER_API_CLIENT_OPTIONS.requestTimeoutMs,
} satisfies StatusFlags;

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show a scheduler\'s nodes (status, reason, services, load), pools and jobs in flight')
    .option('--scheduler <url>', 'scheduler base URL', DEFAULT_STATUS_FLAGS.scheduler)
    .option('--json', 'print one JSON object instead of tables', false)
    .option('--auth-token <token>', 'the scheduler\'s shared secret (or LINGUAMESH_AUTH_TOKEN)')
    .option('--timeout-ms <ms>', 'longest wait for each API answer, in ms', positiveIntFlag, DEFAULT_STATUS_FLAGS.timeoutMs)
    .action(async (flags: StatusFlags) => {
      const { runStatus } = await import('./status.action.js');
      process.exitCode = await runStatus({ ...flags, authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN });
    });
}
