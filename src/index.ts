/**
 * linguamesh as a library, for Node host apps (an Electron shell, a render-farm manager):
 *
 * ```ts
 * import { startScheduler, startNode } from 'linguamesh';
 * const scheduler = startScheduler({ port: 0, host: '127.0.0.1', allowCpuNodes: true });
 * const { url } = await scheduler.ready;
 * const node = startNode({ schedulerUrl: url.replace('http', 'ws'), httpPort: 0, allowCpuServices: true });
 * node.on('link.registered', (event) => console.log('registered as', event.nodeId));
 * // …
 * await node.stop();
 * await scheduler.stop();
 * ```
 *
 * Each option type is the role's configuration schema (the keys of the CLI's config file). See
 * src/cli/embedding.ts for the handle and the rules an embedded role follows.
 */
export { startHub, startNode, startScheduler } from './cli/embedding.js';
export type {
  EmbeddingOptions,
  HubHandle,
  HubOptions,
  HubStatus,
  InspectorInfo,
  NodeHandle,
  NodeOptions,
  NodeStatus,
  RoleExit,
  RoleHandle,
  RoleReady,
  SchedulerHandle,
  SchedulerOptions,
  SchedulerStatus,
} from './cli/embedding.js';
// The whole system on one box (what `linguamesh up` runs): hub, scheduler and node, the reference
// services installed as packages; its handle reports progress through `onProgress`.
export { startAll } from './cli/start-all.js';
export type { AllHandle, AllStatus, AllUrls, StartAllOptions, StartAllProgress } from './cli/start-all.js';
export { ConfigFileSchema, HubRoleConfigSchema, NodeRoleConfigSchema, SchedulerRoleConfigSchema } from './cli/role-config.schema.js';
export type { ConfigFile, HubRoleConfig, NodeRoleConfig, Role, SchedulerRoleConfig } from './cli/role-config.schema.js';
export { readConfigFile } from './cli/role-config.js';
export type { BusEvent, BusEventOf, BusEventType } from './kernel/bus-events.js';
export { KernelError, isKernelError } from './kernel/errors.js';
export type { Logger } from './kernel/logger.js';
