/**
 * The `linguamesh` command line: the composition root. It picks adapters, provides them to the
 * roles' machines and runs one role (or all of them) under a supervised system.
 */
import { Command } from 'commander';
import { registerNodeCommand } from './node.command.js';
import { registerNodeServicesCommand } from './node-services.command.js';
import { registerHubCommand } from './hub.command.js';
import { registerPkgCommand } from './pkg.command.js';
import { registerSchedulerCommand } from './scheduler.command.js';
import { registerUpCommand } from './up.command.js';

export function buildProgram(): Command {
  const program = new Command('linguamesh')
    .description('Compute fabric for real-time speech translation: node, scheduler and model hub.')
    .version('0.1.0');
  registerNodeCommand(program);
  registerNodeServicesCommand(program);
  registerHubCommand(program);
  registerPkgCommand(program);
  registerSchedulerCommand(program);
  registerUpCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
