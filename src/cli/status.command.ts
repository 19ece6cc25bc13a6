/**
 * `linguamesh status`: what a scheduler knows now — nodes with their status and reason, services
 * per node, load and jobs in flight, pools — read from its `/api/v1` API and printed as tables, or
 * as one JSON object with `--json`. An unreachable scheduler is an error with a non-zero exit code.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createSchedulerApiClient, DEFAULT_SCHEDULER_API_CLIENT_OPTIONS } from '../adapters/scheduler-api-client.adapter.js';
import { CLIENT_EXIT_CODES, failureOf, PROCESS_OUTPUT, reportFailure, schedulerUrl } from './client-failure.js';
import type { ClientOutput } from './client-failure.js';
import { renderStatus } from './status-report.js';
import type { StatusReport } from './status-report.js';

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

/** Reads the scheduler's state and prints it; resolves the exit code. */
export async function runStatus(flags: StatusFlags, out: ClientOutput = PROCESS_OUTPUT, signal: AbortSignal = new AbortController().signal): Promise<number> {
  let base: URL;
  try {
    base = schedulerUrl(flags.scheduler, 'http');
  } catch {
    return reportFailure('status', { code: 'INVALID_ARGUMENT', message: `--scheduler: not a URL: ${flags.scheduler}` }, out, flags.json);
  }
  const api = createSchedulerApiClient({ baseUrl: base.href, authToken: flags.authToken, requestTimeoutMs: flags.timeoutMs });
  let report: StatusReport;
  try {
    // Nodes first: when the scheduler is unreachable, that one answer says so.
    const nodes = await api.nodes(signal);
    const [speech, text, dispatch] = await Promise.all([api.pools('speech', signal), api.pools('text', signal), api.dispatch(signal)]);
    report = { scheduler: base.origin, nodes, pools: { speech, text }, dispatch };
  } catch (err) {
    return reportFailure('status', failureOf(err), out, flags.json, { scheduler: base.origin });
  }
  if (flags.json) out.stdout(`${JSON.stringify({ ok: true, ...report })}\n`);
  else out.stdout(renderStatus(report, Date.now()));
  return CLIENT_EXIT_CODES.ok;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show a scheduler\'s nodes (status, reason, services, load), pools and jobs in flight')
    .option('--scheduler <url>', 'scheduler base URL', DEFAULT_STATUS_FLAGS.scheduler)
    .option('--json', 'print one JSON object instead of tables', false)
    .option('--auth-token <token>', 'the scheduler\'s shared secret (or LINGUAMESH_AUTH_TOKEN)')
    .option('--timeout-ms <ms>', 'longest wait for each API answer, in ms', positiveInt, DEFAULT_STATUS_FLAGS.timeoutMs)
    .action(async (flags: StatusFlags) => {
      process.exitCode = await runStatus({ ...flags, authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN });
    });
}
