/**
 * One pino root per process (or per embedded role when the host passes its own logger); every actor
 * logs through `logger.child({ actor: id })`. Speech-derived text goes under a `pii` key at debug
 * level only, and the root redacts it, like every auth token (STYLE.md §11).
 */
import pino from 'pino';
import type { Logger as PinoLogger, LoggerOptions } from 'pino';

export type Logger = PinoLogger;

/** Paths the root logger always removes. */
export const REDACT_PATHS = [
  'pii',
  '*.pii',
  'token',
  '*.token',
  'authToken',
  '*.authToken',
  'auth_token',
  '*.auth_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

export interface LoggerFactoryOptions {
  /** pino level name. Default `info`, or `LOG_LEVEL` from the environment. */
  level?: string;
  /** `json` writes JSON lines; `pretty` formats for a person; `auto` picks pretty on a TTY. */
  format?: 'json' | 'pretty' | 'auto';
  /** Base fields on every line (role, instance id). */
  base?: Record<string, unknown>;
  /** Destination stream for JSON output. Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerFactoryOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true && !options.destination);
  const config: LoggerOptions = {
    level,
    base: options.base ?? null,
    redact: { paths: REDACT_PATHS, remove: true },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...config, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return options.destination ? pino(config, options.destination as pino.DestinationStream) : pino(config);
}

/** A logger that drops everything: the default for tests and embedded hosts that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
