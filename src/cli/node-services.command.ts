/**
 * `linguamesh node services list|start|stop|restart|enable|disable <id> [--node URL] [--json]`:
 * the hot-plug API of a running node, through its loopback control endpoint.
 */
import type { Command } from 'commander';
import { createNodeControlClient } from '../adapters/node-control-client.adapter.js';
import { isKernelError } from '../kernel/errors.js';
import { SERVICE_CONTROL_ACTIONS } from '../protocol/node-control.schema.js';
import type { ServiceStateBody } from '../protocol/node-control.schema.js';

/** The node's control endpoint when `--node` is not given. */
export const DEFAULT_NODE_CONTROL_URL = 'http://127.0.0.1:5020';
/** How long a command waits for the node (a start waits for the service's health), in ms. */
const COMMAND_TIMEOUT_MS = 300_000;

export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const ACTION_HELP: Record<(typeof SERVICE_CONTROL_ACTIONS)[number], string> = {
  start: 'start a service and wait until it is running',
  stop: 'stop a service (SIGTERM, then SIGKILL after its stop timeout)',
  restart: 'stop a service, then start it again',
  enable: 'start a service now and at every node start (persisted)',
  disable: 'stop a service and keep it stopped at node start (persisted)',
};

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

export function registerNodeServicesCommand(program: Command, output: CommandOutput = processOutput): void {
  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node');
  const services = node.command('services').description("list and control a running node's local speech services");

  const fail = (err: unknown) => {
    const code = isKernelError(err) ? ` [${err.code}]` : '';
    output.err(`error${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  };

  services
    .command('list')
    .description('list the services with their state')
    .option('--node <url>', 'control endpoint of the node', DEFAULT_NODE_CONTROL_URL)
    .option('--json', 'print JSON')
    .action(async (opts: { node: string; json?: boolean }) => {
      try {
        const list = await createNodeControlClient({ baseUrl: opts.node }).listServices(AbortSignal.timeout(COMMAND_TIMEOUT_MS));
        output.out(opts.json ? `${JSON.stringify({ services: list }, null, 2)}\n` : formatServiceTable(list));
      } catch (err) {
        fail(err);
      }
    });

  for (const action of SERVICE_CONTROL_ACTIONS) {
    services
      .command(`${action} <id>`)
      .description(ACTION_HELP[action])
      .option('--node <url>', 'control endpoint of the node', DEFAULT_NODE_CONTROL_URL)
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { node: string; json?: boolean }) => {
        try {
          const service = await createNodeControlClient({ baseUrl: opts.node }).serviceAction(id, action, AbortSignal.timeout(COMMAND_TIMEOUT_MS));
          output.out(opts.json ? `${JSON.stringify(service, null, 2)}\n` : `${describe(service)}\n`);
        } catch (err) {
          fail(err);
        }
      });
  }
}
