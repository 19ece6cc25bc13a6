// The package entry for plain Node (`import { startNode } from 'linguamesh'`): the sources are
// TypeScript, run through tsx like the `linguamesh` command (bin/linguamesh.js). Importing this
// registers tsx's loader in the host process (it transforms .ts files only), then loads src/index.ts.
// Types come from src/index.ts directly (package.json `exports` › `types`).
import { register } from 'tsx/esm/api';

register();
const api = await import('../src/index.ts');

export const {
  startNode,
  startScheduler,
  startHub,
  startAll,
  readConfigFile,
  ConfigFileSchema,
  NodeRoleConfigSchema,
  SchedulerRoleConfigSchema,
  HubRoleConfigSchema,
  KernelError,
  isKernelError,
} = api;
