/**
 * What `linguamesh node services …` runs (its flags: src/cli/node-services.command.ts): one call to
 * a running node's loopback control endpoint, printed as a table or JSON.
 */
import { createNodeControlClient } from '../adapters/node-control-client.adapter.js';
import { isKernelError } from '../kernel/errors.js';
import type { ServiceControlAction, ServiceStateBody } from '../protocol/node-control.schema.js';
import type { CommandOutput, NodeServicesFlags } from './node-services.command.js';

/** How long a command waits for the node (a start waits for the service's health), in ms. */
const COMMAND_TIMEOUT_MS = 300_000;

function describe(service: ServiceStateBody): string {
  const where = [service.baseUrl, service.pid !== undefined ? `pid ${service.pid}` : undefined].filter(Boolean).join(', ');
  return `${service.id}: ${service.state}${where ? ` (${where})` : ''}${service.lastError ? ` — ${service.lastError}` : ''}`;
}

export function formatServiceTable(services: readonly ServiceStateBody[]): string {
  const rows = [
    ['ID', 'VERSION', 'TYPE', 'STATE', 'WIRE', 'ENABLED', 'URL', 'PID', 'LAST ERROR'],
    ...services.map((s) => [s.id, s.version ?? '-', s.type, s.state, s.wireStatus, s.enabled ? 'yes' : 'no', s.baseUrl ?? '-', s.pid !== undefined ? String(s.pid) : '-', s.lastError ?? '']),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function fail(output: CommandOutput, err: unknown): void {
  const code = isKernelError(err) ? ` [${err.code}]` : '';
  output.err(`error${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}

/** `linguamesh node services list`. */
export async function listServices(opts: NodeServicesFlags, output: CommandOutput): Promise<void> {
  try {
    const list = await createNodeControlClient({ baseUrl: opts.node }).listServices(AbortSignal.timeout(COMMAND_TIMEOUT_MS));
    output.out(opts.json ? `${JSON.stringify({ services: list }, null, 2)}\n` : formatServiceTable(list));
  } catch (err) {
    fail(output, err);
  }
}

/** `linguamesh node services start|stop|restart|enable|disable <id>`. */
export async function controlService(id: string, action: ServiceControlAction, opts: NodeServicesFlags, output: CommandOutput): Promise<void> {
  try {
    const service = await createNodeControlClient({ baseUrl: opts.node }).serviceAction(id, action, AbortSignal.timeout(COMMAND_TIMEOUT_MS));
    output.out(opts.json ? `${JSON.stringify(service, null, 2)}\n` : `${describe(service)}\n`);
  } catch (err) {
    fail(output, err);
  }
}
