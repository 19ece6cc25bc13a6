/**
 * Where a role's configuration comes from, lowest to highest precedence: the role's defaults < the
 * config file's section (`--config FILE`) < environment variables < flags (or, embedded, the
 * options object). Each source is checked against the role's strict schema on its own, so that an
 * error names the file, the variable or the flag; the merged result is then resolved over the
 * defaults and checked as a whole by the role's own resolver (`resolveNodeSettings`,
 * `resolveSchedulerConfig`, `resolveHubOptions`).
 *
 * Environment variables: `LINGUAMESH_<ROLE>_<KEY>` for every key, the key in UPPER_SNAKE
 * (`LINGUAMESH_NODE_SCHEDULER_URL`, `LINGUAMESH_SCHEDULER_ALLOW_CPU_NODES=true`,
 * `LINGUAMESH_HUB_STORAGE_DIR`); lists are comma-separated, `hubKeys` is `id=key,id=key`. An unknown
 * `LINGUAMESH_<ROLE>_…` variable is an error (but `LINGUAMESH_NODE_URL`, `linguamesh pkg`'s). Shared, below the role's own: `LINGUAMESH_AUTH_TOKEN`
 * (node and scheduler `authToken`) and `LOG_LEVEL` (`logLevel`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ZodType } from 'zod';
import type { z } from 'zod';
import { resolveSchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import type { SchedulerConfig } from '../actors/scheduler/scheduler-options.js';
import { ConfigError } from '../kernel/errors.js';
import { resolveNodeSettings } from './node-options.js';
import { envVarName } from './role-config.names.js';
import type { NodeSettings } from './node-options.js';
import { ConfigFileSchema, ObservabilityShape, ROLE_CONFIG_SCHEMAS, SECRET_KEYS } from './role-config.schema.js';
import type { ConfigFile, HubRoleConfig, NodeRoleConfig, Role, RoleConfigs } from './role-config.schema.js';
import { resolveHubOptions } from './hub-options.js';
import type { HubOptions } from './hub-options.js';

const OBSERVABILITY_KEYS = Object.keys(ObservabilityShape);

/** Observability keys, resolved (the CLI's defaults). */
export interface Observability {
  logLevel: NonNullable<NodeRoleConfig['logLevel']>;
  logFormat: NonNullable<NodeRoleConfig['logFormat']>;
  inspect: boolean | string;
  record?: string;
}

export type EffectiveNodeConfig = NodeSettings & { extraServiceDirs: string[]; hubUrl?: string; hubKeys?: Record<string, string> } & Observability;
export type EffectiveSchedulerConfig = SchedulerConfig & Observability;
export type EffectiveHubConfig = HubOptions & Observability;

export interface EffectiveConfigs {
  node: EffectiveNodeConfig;
  scheduler: EffectiveSchedulerConfig;
  hub: EffectiveHubConfig;
}

type Issue = z.core.$ZodIssue;

/** How a source names a key in its messages (a flag: `--http-port`). */
export type KeyLabel = (key: string) => string;

function describeIssue(issue: Issue, label: KeyLabel | undefined): string {
  const [first, ...rest] = issue.path.map(String);
  const path = [first === undefined ? undefined : (label?.(first) ?? first), ...rest].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `unknown key "${[path, key].filter(Boolean).join('.')}"`).join('; ');
  return `${path || 'config'}: ${issue.message}`;
}

function parseWith<T>(schema: ZodType<T>, value: unknown, where: string, label?: KeyLabel): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => describeIssue(i, label));
  throw new ConfigError(`${where}: ${issues.join('; ')}`, { details: { source: where, issues } });
}

/** Reads and checks a config file (JSON); throws INVALID_CONFIG naming the file and the key. */
export function readConfigFile(path: string): ConfigFile {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`config file ${file} must hold one JSON object with "node", "scheduler" and/or "hub" sections`);
  return parseWith(ConfigFileSchema, json, `config file ${file}`);
}

export { envVarName };

/** Every environment variable a role reads, by key (for the docs and `--help`). */
export function envVarNames(role: Role): Record<string, string> {
  return Object.fromEntries(Object.keys(ROLE_CONFIG_SCHEMAS[role].shape).map((key) => [key, envVarName(role, key)]));
}

/** Variables under a role's prefix that other commands read (`linguamesh pkg --node`'s default): not the role's keys, not errors. */
const OTHER_COMMANDS_ENV: ReadonlySet<string> = new Set(['LINGUAMESH_NODE_URL']);

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The environment's text as the type the key's schema wants; invalid text is left for the schema to refuse. */
function coerce(schema: z.core.$ZodType, raw: string): unknown {
  const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType };
  switch (def.type) {
    case 'optional':
      return coerce(def.innerType!, raw);
    case 'number':
      return raw.trim() === '' ? raw : Number(raw);
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return TRUE.has(v) ? true : FALSE.has(v) ? false : raw;
    }
    case 'union': {
      const v = raw.trim().toLowerCase();
      return TRUE.has(v) ? true : FALSE.has(v) ? false : raw;
    }
    case 'array':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'record':
      return Object.fromEntries(
        raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((entry) => {
            const at = entry.indexOf('=');
            return at <= 0 ? [entry, ''] : [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
          }),
      );
    default:
      return raw;
  }
}

/** The role's keys set in `env`; throws INVALID_CONFIG for an unknown `LINGUAMESH_<ROLE>_…` variable or a bad value. */
export function configFromEnv<R extends Role>(role: R, env: NodeJS.ProcessEnv): RoleConfigs[R] {
  const schema = ROLE_CONFIG_SCHEMAS[role];
  const shape = schema.shape as Record<string, z.core.$ZodType>;
  const byName = new Map(Object.keys(shape).map((key) => [envVarName(role, key), key]));
  const out: Record<string, unknown> = {};
  if (env.LOG_LEVEL) out.logLevel = env.LOG_LEVEL;
  if (env.LINGUAMESH_AUTH_TOKEN && 'authToken' in shape) out.authToken = env.LINGUAMESH_AUTH_TOKEN;
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(envVarName(role, '')) || raw === undefined || OTHER_COMMANDS_ENV.has(name)) continue;
    const key = byName.get(name);
    if (key === undefined) unknown.push(name);
    else out[key] = coerce(shape[key]!, raw);
  }
  if (unknown.length > 0) throw new ConfigError(`environment: unknown variable ${unknown.map((n) => `"${n}"`).join(', ')} (the ${role} reads ${[...byName.keys()].join(', ')})`);
  const parsed = schema.safeParse(out);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const name = key === 'logLevel' && env[envVarName(role, key)] === undefined ? 'LOG_LEVEL' : key === 'authToken' && env[envVarName(role, key)] === undefined ? 'LINGUAMESH_AUTH_TOKEN' : envVarName(role, key);
      return `${name}: ${i.message}`;
    });
    throw new ConfigError(`environment: ${issues.join('; ')}`, { details: { source: 'environment', issues } });
  }
  return parsed.data as RoleConfigs[R];
}

/** Checks one source (flags, an embedding host's options) against the role's strict schema. */
export function checkRoleConfig<R extends Role>(role: R, value: unknown, where: string, label?: KeyLabel): RoleConfigs[R] {
  const defined = Object.fromEntries(Object.entries((value ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined));
  return parseWith(ROLE_CONFIG_SCHEMAS[role] as unknown as ZodType<RoleConfigs[R]>, defined, where, label);
}

/** Later layers win key by key; `undefined` never overrides. */
export function mergeLayers<T extends object>(...layers: (T | undefined)[]): T {
  const out: Record<string, unknown> = {};
  for (const layer of layers) for (const [k, v] of Object.entries(layer ?? {})) if (v !== undefined) out[k] = v;
  return out as T;
}

function split<T extends object>(merged: T): { settings: Record<string, unknown>; observability: Observability } {
  const settings: Record<string, unknown> = {};
  const obs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(merged)) (OBSERVABILITY_KEYS.includes(k) ? obs : settings)[k] = v;
  return {
    settings,
    observability: {
      logLevel: (obs.logLevel as Observability['logLevel'] | undefined) ?? 'info',
      logFormat: (obs.logFormat as Observability['logFormat'] | undefined) ?? 'auto',
      inspect: (obs.inspect as boolean | string | undefined) ?? false,
      ...(obs.record !== undefined ? { record: obs.record as string } : {}),
    },
  };
}

/** The whole configuration of a role: the merged keys resolved over the defaults and checked as a whole. */
export function effectiveConfig<R extends Role>(role: R, merged: RoleConfigs[R]): EffectiveConfigs[R] {
  const { settings, observability } = split(merged);
  switch (role) {
    case 'node': {
      const { extraServiceDirs, hubUrl, hubKeys, ...rest } = settings as NodeRoleConfig;
      if (rest.schedulerUrl === undefined) throw new ConfigError('the node needs a scheduler URL: --scheduler <url>, LINGUAMESH_NODE_SCHEDULER_URL or "node.schedulerUrl" in the config file');
      if (hubKeys !== undefined && hubUrl === undefined) throw new ConfigError('hubKeys need hubUrl (--hub-key needs --hub)');
      const node: EffectiveNodeConfig = {
        ...resolveNodeSettings({ ...rest, schedulerUrl: rest.schedulerUrl }),
        extraServiceDirs: extraServiceDirs ?? [],
        ...(hubUrl !== undefined ? { hubUrl, hubKeys: hubKeys ?? {} } : {}),
        ...observability,
      };
      return node as EffectiveConfigs[R];
    }
    case 'scheduler':
      return { ...resolveSchedulerConfig(settings as Partial<SchedulerConfig>), ...observability } as EffectiveConfigs[R];
    default: {
      const hub = settings as HubRoleConfig;
      if (hub.storageDir === undefined) throw new ConfigError('the hub needs a storage directory: --storage <dir>, LINGUAMESH_HUB_STORAGE_DIR or "hub.storageDir" in the config file');
      return { ...resolveHubOptions({ ...hub, storageDir: hub.storageDir }), ...observability } as EffectiveConfigs[R];
    }
  }
}

export interface ConfigSources<R extends Role> {
  /** Defaults of this front end, below the file (the CLI's `./storage` for the hub). */
  defaults?: RoleConfigs[R];
  /** Path of a config file (`--config`). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** The flags given (keys of the role's schema; `undefined` means not given). */
  flags?: RoleConfigs[R];
  /** The flag of each key, for messages. */
  flagNames?: Readonly<Record<string, string>>;
}

/** Every source merged by precedence and resolved: what the role will run with. */
export function loadRoleConfig<R extends Role>(role: R, sources: ConfigSources<R>): EffectiveConfigs[R] {
  const file = sources.file === undefined ? undefined : (readConfigFile(sources.file)[role] as RoleConfigs[R] | undefined);
  const env = sources.env === undefined ? undefined : configFromEnv(role, sources.env);
  const flags = sources.flags === undefined ? undefined : checkRoleConfig(role, sources.flags, 'flags', (key) => sources.flagNames?.[key] ?? key);
  return effectiveConfig(role, mergeLayers<RoleConfigs[R]>(sources.defaults, file, env, flags));
}

const REDACTED = '[redacted]';

/** A copy safe to print: secrets replaced, passwords in URLs (`redis://:pw@host`) hidden. */
export function redactConfig<T extends object>(config: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEYS.has(key) && value !== undefined) out[key] = REDACTED;
    else if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) out[key] = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/i, `$1:${REDACTED}@`);
    else out[key] = value;
  }
  return out as T;
}

/**
 * `--print-config`: the effective configuration as JSON, secrets redacted, in the keys of the
 * configuration file (a node's resolved `schedulerUrls` print as `schedulerUrl`, one URL or the
 * list), so that the output can serve as a config file section.
 */
export function formatConfig(config: object): string {
  const { schedulerUrls, ...rest } = config as { schedulerUrls?: string[] };
  const keyed = schedulerUrls === undefined ? config : { schedulerUrl: schedulerUrls.length === 1 ? schedulerUrls[0] : schedulerUrls, ...rest };
  return `${JSON.stringify(redactConfig(keyed), null, 2)}\n`;
}
