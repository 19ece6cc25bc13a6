/**
 * The flags the three role commands (`linguamesh node | scheduler | hub`) share: configuration and
 * observability. Defining them loads nothing but their names (src/cli/role-config.names.ts); what
 * the commands do with them when they run — loading the configuration, `--print-config`, the logger,
 * the signals — is in src/cli/role.action.ts, which each command's action loads when it runs.
 */
import type { Command } from 'commander';
import { envVarName, LOG_LEVELS } from './role-config.names.js';
import type { Role } from './role-config.names.js';

/** The flags every role command has besides its own. */
export interface CommonRoleFlags {
  config?: string;
  printConfig?: boolean;
  inspect?: boolean | string;
  record?: string;
  logLevel?: string;
  logFormat?: string;
}

export function addRoleOptions(command: Command, role: Role): Command {
  return command
    .option('--config <file>', `JSON config file; its "${role}" section is read (below ${envVarName(role, '')}* variables and flags)`)
    .option('--print-config', 'print the effective configuration as JSON (secrets redacted) and exit')
    .option('--inspect [url]', 'stream the actors to the Stately inspector (default ws://localhost:8080)')
    .option('--record <file>', 'append the inspection stream to <file> as JSON lines')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')} (default info, or LOG_LEVEL)`)
    .option('--log-format <format>', 'json, pretty or auto (pretty when stdout is a terminal; default)');
}
