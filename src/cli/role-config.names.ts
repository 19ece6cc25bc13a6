/**
 * The names of the role configuration that the role commands' flags and help show (the roles, the
 * log levels, the environment variable of a key), without zod and the roles' option schemas
 * (src/cli/role-config.schema.ts, src/cli/role-config.ts), so that defining the flags stays cheap.
 */

export const ROLES = ['node', 'scheduler', 'hub'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const ENV_PREFIX: Record<Role, string> = { node: 'LINGUAMESH_NODE_', scheduler: 'LINGUAMESH_SCHEDULER_', hub: 'LINGUAMESH_HUB_' };

/** `schedulerUrl` → `LINGUAMESH_NODE_SCHEDULER_URL`. */
export function envVarName(role: Role, key: string): string {
  return ENV_PREFIX[role] + key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}
