/**
 * What `linguamesh status` runs (its flags: src/cli/status.command.ts): reads a scheduler's
 * `/api/v1` API and prints its nodes, pools and jobs in flight as tables, or as one JSON object.
 */
import { createSchedulerApiClient } from '../adapters/scheduler-api-client.adapter.js';
import { CLIENT_EXIT_CODES, failureOf, PROCESS_OUTPUT, reportFailure, schedulerUrl } from './client-failure.js';
import type { ClientOutput } from './client-failure.js';
import type { StatusFlags } from './status.command.js';
import { renderStatus } from './status-report.js';
import type { StatusReport } from './status-report.js';

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
