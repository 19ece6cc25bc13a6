/**
 * `linguamesh node services list|start|stop|restart|enable|disable <id> [--node URL] [--json]`:
 * the hot-plug API of a running node, through its loopback control endpoint
 * (src/cli/node-services.action.ts, loaded when a command runs).
 */
import type { Command } from 'commander';
import type { ServiceControlAction } from '../protocol/node-control.schema.js';

/** The node's control endpoint when `--node` is not given. */
export const DEFAULT_NODE_CONTROL_URL = 'http://127.0.0.1:5020';

export interface CommandOutput {
  out(text: string): void;
  err(text: string): void;
}

export interface NodeServicesFlags {
  node: string;
  json?: boolean;
}

const processOutput: CommandOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** One line of help per control action (SERVICE_CONTROL_ACTIONS, in its order), each action a command. */
const ACTION_HELP = {
  start: 'start a service and wait until it is running',
  stop: 'stop a service (SIGTERM, then SIGKILL after its stop timeout)',
  restart: 'stop a service, then start it again',
  enable: 'start a service now and at every node start (persisted)',
  disable: 'stop a service and keep it stopped at node start (persisted)',
} satisfies Record<ServiceControlAction, string>;

export function registerNodeServicesCommand(program: Command, output: CommandOutput = processOutput): void {
  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node');
  const services = node.command('services').description("list and control a running node's local speech services");

  services
    .command('list')
    .description('list the services with their state')
    .option('--node <url>', 'control endpoint of the node', DEFAULT_NODE_CONTROL_URL)
    .option('--json', 'print JSON')
    .action(async (opts: NodeServicesFlags) => {
      const { listServices } = await import('./node-services.action.js');
      await listServices(opts, output);
    });

  for (const action of Object.keys(ACTION_HELP) as ServiceControlAction[]) {
    services
      .command(`${action} <id>`)
      .description(ACTION_HELP[action])
      .option('--node <url>', 'control endpoint of the node', DEFAULT_NODE_CONTROL_URL)
      .option('--json', 'print JSON')
      .action(async (id: string, opts: NodeServicesFlags) => {
        const { controlService } = await import('./node-services.action.js');
        await controlService(id, action, opts, output);
      });
  }
}
