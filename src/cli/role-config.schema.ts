/**
 * One configuration schema per role — node, scheduler, hub — shared by the CLI (flags, environment
 * variables, `--config FILE`) and the embedding API (`startNode(options)` in src/index.ts). Each is
 * built from the role's own settings shape (`NodeSettingsShape`, `SchedulerConfigShape`,
 * `HubOptionsShape`, which keep their defaults and cross-field checks next to the role), plus the
 * role's extra keys and the observability keys. Every key is optional here (the defaults fill the
 * rest) and unknown keys are errors.
 *
 * The config file is JSON: `{ "node": {…}, "scheduler": {…}, "hub": {…} }`, every section optional.
 */
import { z } from 'zod';
import { SchedulerConfigShape } from '../actors/scheduler/scheduler-options.js';
import { NodeSettingsShape } from './node-options.js';
import { LOG_LEVELS, ROLES } from './role-config.names.js';
import type { Role } from './role-config.names.js';
import { HubOptionsShape } from './hub-options.js';

export { LOG_LEVELS, ROLES };
export type { Role };

/** Logs and the inspection stream, the same keys for every role. */
export const ObservabilityShape = {
  /** pino level. CLI default `info` (or `LOG_LEVEL`); embedded, only used when no `logger` is passed. */
  logLevel: z.enum(LOG_LEVELS),
  /** `json` lines, `pretty` for a person, `auto`: pretty when stdout is a TTY. Default `auto`. */
  logFormat: z.enum(['json', 'pretty', 'auto']),
  /** Stream the actors to the Stately inspector: `true` (ws://localhost:8080) or its `ws(s)://` URL. */
  inspect: z.union([z.boolean(), z.string().regex(/^wss?:\/\/./, 'must be true, false or a ws(s):// URL')]),
  /** Append the inspection stream to this file as JSON lines (for later replay). */
  record: z.string().min(1),
};

/** Keys of the whole node role besides `NodeSettings` (src/cli/node-role.ts). */
const NodeRoleShape = {
  /** Service directories run besides the installed packages (`--service-dir`). */
  extraServiceDirs: z.array(z.string().min(1)),
  /** Model hub to install packages from (`--hub`). */
  hubUrl: z.string().regex(/^https?:\/\/[^/]/, 'must be an http(s):// URL'),
  /** Hub public keys by key id, raw 32-byte Ed25519 keys in base64 (`--hub-key`); needs `hubUrl`. */
  hubKeys: z.record(z.string().min(1), z.string().min(1)),
};

export const NodeRoleConfigSchema = z.object({ ...NodeSettingsShape, ...NodeRoleShape, ...ObservabilityShape }).partial().strict();
export const SchedulerRoleConfigSchema = z.object({ ...SchedulerConfigShape, ...ObservabilityShape }).partial().strict();
export const HubRoleConfigSchema = z.object({ ...HubOptionsShape, ...ObservabilityShape }).partial().strict();

export type NodeRoleConfig = z.input<typeof NodeRoleConfigSchema>;
export type SchedulerRoleConfig = z.input<typeof SchedulerRoleConfigSchema>;
export type HubRoleConfig = z.input<typeof HubRoleConfigSchema>;

export const ROLE_CONFIG_SCHEMAS = {
  node: NodeRoleConfigSchema,
  scheduler: SchedulerRoleConfigSchema,
  hub: HubRoleConfigSchema,
} as const;

export interface RoleConfigs {
  node: NodeRoleConfig;
  scheduler: SchedulerRoleConfig;
  hub: HubRoleConfig;
}

/** The config file: one optional section per role. */
export const ConfigFileSchema = z
  .object({
    node: NodeRoleConfigSchema.optional(),
    scheduler: SchedulerRoleConfigSchema.optional(),
    hub: HubRoleConfigSchema.optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** Keys whose values never leave the process (`--print-config` shows them redacted). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['authToken']);
