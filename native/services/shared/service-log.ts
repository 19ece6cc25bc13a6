/**
 * A JSON-lines logger for a service process: one object per line on stdout (warnings and errors on
 * stderr), static messages and values in fields. Speech-derived text is logged only at debug, under
 * a `pii` key, and never above it (STYLE.md §11). No pino here: a service bundle stays small and
 * has no transport threads to manage.
 */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface ServiceLog {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

function isLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVELS, value);
}

function serialiseError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code === undefined ? {} : { code }), stack: err.stack };
}

export function createServiceLog(service: string, level: string = process.env.LOG_LEVEL ?? 'info'): ServiceLog {
  const threshold = LEVELS[isLevel(level) ? level : 'info'];
  const write = (name: Exclude<LogLevel, 'silent'>, fields: Record<string, unknown>, msg: string): void => {
    if (LEVELS[name] < threshold) return;
    const { pii, err, ...rest } = fields;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: name, service, msg, ...rest };
    if (err !== undefined) record.err = serialiseError(err);
    // Speech-derived text never leaves the process above debug.
    if (pii !== undefined && name === 'debug') record.pii = pii;
    const line = `${JSON.stringify(record)}\n`;
    if (LEVELS[name] >= LEVELS.warn) process.stderr.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (fields, msg) => write('debug', fields, msg),
    info: (fields, msg) => write('info', fields, msg),
    warn: (fields, msg) => write('warn', fields, msg),
    error: (fields, msg) => write('error', fields, msg),
  };
}
