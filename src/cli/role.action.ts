/**
 * What the three role commands (`linguamesh node | scheduler | hub`) do with their shared flags
 * when they run: loading the configuration from its sources (defaults < `--config FILE` <
 * `LINGUAMESH_*` environment < flags), `--print-config`, the process logger, and the signals. The
 * roles themselves are started through the embedding API (src/cli/embedding.ts); only the CLI
 * turns SIGINT/SIGTERM into `stop()` and sets the exit code. The flags are defined in
 * src/cli/role-command.ts.
 */
import type { Command } from 'commander';
import { isKernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { createLogger } from '../kernel/logger.js';
import type { RoleHandle } from './embedding.js';
import type { CommonRoleFlags } from './role-command.js';
import { formatConfig, loadRoleConfig } from './role-config.js';
import type { EffectiveConfigs } from './role-config.js';
import type { Role, RoleConfigs } from './role-config.schema.js';

const COMMON_FLAG_NAMES = { logLevel: '--log-level', logFormat: '--log-format', inspect: '--inspect', record: '--record' };

/** The observability flags as configuration keys. */
export function commonFlagKeys(flags: CommonRoleFlags): Record<string, unknown> {
  return { logLevel: flags.logLevel, logFormat: flags.logFormat, inspect: flags.inspect, record: flags.record };
}

/**
 * The effective configuration from every source; a bad source ends the command with one line
 * naming the file, variable or flag (exit 1).
 */
export function loadCommandConfig<R extends Role>(command: Pick<Command, 'error'>, role: R, flags: CommonRoleFlags, keys: Record<string, unknown>, options: { defaults?: RoleConfigs[R]; flagNames?: Record<string, string> } = {}): EffectiveConfigs[R] {
  try {
    return loadRoleConfig(role, {
      ...(options.defaults ? { defaults: options.defaults } : {}),
      ...(flags.config !== undefined ? { file: flags.config } : {}),
      env: process.env,
      flags: { ...keys, ...commonFlagKeys(flags) } as RoleConfigs[R],
      flagNames: { ...COMMON_FLAG_NAMES, ...options.flagNames },
    });
  } catch (err) {
    if (isKernelError(err) && err.code === 'INVALID_CONFIG') command.error(`error (INVALID_CONFIG): ${err.message}`);
    throw err;
  }
}

/** `--print-config`: writes the configuration and tells the caller to start nothing. */
export function printConfigIfAsked(flags: CommonRoleFlags, config: object): boolean {
  if (!flags.printConfig) return false;
  process.stdout.write(formatConfig(config));
  return true;
}

export function commandLogger(config: { logLevel: string; logFormat: 'json' | 'pretty' | 'auto' }): Logger {
  return createLogger({ level: config.logLevel, format: config.logFormat });
}

/**
 * Runs a started role until it stops: SIGINT/SIGTERM start its ordered shutdown, a second signal
 * exits at once (130). Resolves with the role's exit once it stopped.
 */
export async function runUntilStopped(role: string, handle: Pick<RoleHandle<unknown>, 'stop' | 'done' | 'inspector'>, logger: Logger): Promise<Awaited<RoleHandle<unknown>['done']>> {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'signal received');
    void handle.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (handle.inspector?.url) process.stderr.write(`linguamesh ${role}: streaming the actors to the Stately inspector at ${handle.inspector.url}\n`);
  if (handle.inspector?.record) process.stderr.write(`linguamesh ${role}: recording the inspection stream to ${handle.inspector.record}\n`);
  try {
    const exit = await handle.done;
    await handle.stop();
    return exit;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
