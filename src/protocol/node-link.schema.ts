/**
 * The node link, `/ws/node` (PROTOCOL.md §2): registration, heartbeats, status and control, and the
 * unions and frame parsers of both directions. Shared objects live in `node-capabilities.schema.ts`
 * and job messages in `node-jobs.schema.ts`.
 */
import { z } from 'zod';
import { FeatureFlagsSchema, NodeStatusSchema } from './common.schema.js';
import { EpochSchema, NodeIdSchema } from './ids.js';
import { CapabilityByTypeListSchema, HardwareSchema, InstalledModelListSchema, InstalledServiceListSchema, LanguageCapabilitiesSchema, ResourceUsageSchema } from './node-capabilities.schema.js';
import { JobAckSchema, JobAssignSchema, JobCancelSchema, JobErrorSchema, JobResultSchema, JobStartedSchema, NodeAsrPartialSchema } from './node-jobs.schema.js';
import { EpochMs, Int, opt, parseFrameWith, type ParseResult } from './validation.js';

/** `capability_schema_version` a linguamesh node sends; any other value present is refused (§4.1). */
export const CAPABILITY_SCHEMA_VERSION = '2.0';
/** `max_concurrent_jobs` when `node_register` gives none (§2.2, §5.3). */
export const DEFAULT_MAX_CONCURRENT_JOBS = 4;

/**
 * `node_register` (N→S, §2.2). `capability_schema_version` is an open string here: a value other
 * than "2.0" is `INVALID_CAPABILITY_SCHEMA` (§4.1 step 2), not an invalid message.
 * `advanced_features` is ignored and therefore not read.
 */
export const NodeRegisterSchema = z.object({
  type: z.literal('node_register'),
  /** Absent or null: the scheduler assigns one. Otherwise 1–128 characters, used verbatim (§1.6). */
  node_id: opt(NodeIdSchema),
  version: z.string(),
  capability_schema_version: opt(z.string()),
  /** `windows` | `linux` | `macos` (open). */
  platform: z.string(),
  hardware: HardwareSchema,
  installed_models: InstalledModelListSchema,
  installed_services: opt(InstalledServiceListSchema),
  capability_by_type: CapabilityByTypeListSchema,
  features_supported: FeatureFlagsSchema,
  accept_public_jobs: z.boolean(),
  language_capabilities: opt(LanguageCapabilitiesSchema),
  /** [ext] Default 4 (`DEFAULT_MAX_CONCURRENT_JOBS`). */
  max_concurrent_jobs: opt(Int.min(1)),
  /** [ext] This node process's epoch (§3.2). */
  epoch: opt(EpochSchema),
});
export type NodeRegister = z.infer<typeof NodeRegisterSchema>;

/** `node_register_ack` (S→N, §2.3). `status` is always `registering`. */
export const NodeRegisterAckSchema = z.object({
  type: z.literal('node_register_ack'),
  node_id: z.string(),
  message: z.string(),
  status: z.string(),
  /** [ext] The scheduler's heartbeat interval in ms; a node adopts it (and ignores 0). */
  heartbeat_interval_ms: opt(Int),
});
export type NodeRegisterAck = z.infer<typeof NodeRegisterAckSchema>;

// `details` is an open object, e.g. `{"type":"node_heartbeat","reason":"NOT_REGISTERED"}` (§2.4, §4.2).
const nodeErrorFields = JobErrorSchema.shape;

/** `node_error` (S→N, §2.4): a registration rejection or an invalid node message. */
export const NodeErrorSchema = z.object({
  type: z.literal('node_error'),
  node_id: opt(z.string()),
  ...nodeErrorFields,
});
export type NodeError = z.infer<typeof NodeErrorSchema>;

/** `error` (S→N, §2.4): the legacy form of `node_error`, treated exactly like it; never sent by linguamesh. */
export const LegacyNodeErrorSchema = z.object({
  type: z.literal('error'),
  node_id: opt(z.string()),
  ...nodeErrorFields,
});
export type LegacyNodeError = z.infer<typeof LegacyNodeErrorSchema>;

/** `node_error` sent by a node (N→S): logged only; `node_id` is required, as a Lingua scheduler requires it. */
export const NodeErrorReportSchema = z.object({
  type: z.literal('node_error'),
  node_id: z.string(),
  ...nodeErrorFields,
});
export type NodeErrorReport = z.infer<typeof NodeErrorReportSchema>;

/** `rerun_metrics` of a heartbeat: informative counters (§2.5). */
export const RerunMetricsSchema = z.object({
  totalReruns: opt(Int),
  successfulReruns: opt(Int),
  failedReruns: opt(Int),
  timeoutReruns: opt(Int),
  qualityImprovements: opt(Int),
});
export type RerunMetrics = z.infer<typeof RerunMetricsSchema>;

/** `node_heartbeat` (N→S, §2.5). Stale heartbeats are detected from `epoch`/`seq` (§4.3). */
export const NodeHeartbeatSchema = z.object({
  type: z.literal('node_heartbeat'),
  node_id: z.string(),
  /** Node clock; informative only. */
  timestamp: EpochMs,
  resource_usage: ResourceUsageSchema,
  installed_models: opt(InstalledModelListSchema),
  installed_services: InstalledServiceListSchema,
  capability_by_type: CapabilityByTypeListSchema,
  /** Absent = unchanged since the last heartbeat that carried it. */
  language_capabilities: opt(LanguageCapabilitiesSchema),
  rerun_metrics: opt(RerunMetricsSchema),
  /** Deprecated. */
  asr_metrics: opt(z.object({ processingEfficiency: opt(z.number()) })),
  processing_metrics: opt(z.object({ serviceEfficiencies: opt(z.record(z.string(), z.number())) })),
  /** [ext] */
  epoch: opt(EpochSchema),
  /** [ext] Strictly increasing per epoch, from 1. */
  seq: opt(Int),
});
export type NodeHeartbeat = z.infer<typeof NodeHeartbeatSchema>;

/** Known `node_status.reason` values (open string; §2.6, §4.4). */
export const NODE_STATUS_REASONS = ['healthy_heartbeats', 'recovered', 'unhealthy_heartbeats', 'warmup_timeout', 'heartbeat_timeout', 'connection_closed', 'drain_requested', 'drain_cancelled'] as const;

/**
 * `node_status` (S→N, §2.6). `reason` may be null (legacy Lingua scheduler). `timestamp` is ms from
 * linguamesh but may be Unix seconds from others: read it through `nodeStatusTimestampMs`.
 */
export const NodeStatusMessageSchema = z.object({
  type: z.literal('node_status'),
  node_id: z.string(),
  status: NodeStatusSchema,
  reason: z.string().nullable(),
  timestamp: Int,
});
export type NodeStatusMessage = z.infer<typeof NodeStatusMessageSchema>;

/** A `node_status.timestamp` in ms: values below 100 000 000 000 are Unix seconds (§2.6). */
export function nodeStatusTimestampMs(timestamp: number): number {
  return timestamp < 100_000_000_000 ? timestamp * 1000 : timestamp;
}

/** Known `node_control.command` values; any other command is logged and ignored (§2.12). */
export const NODE_CONTROL_COMMANDS = ['drain', 'shutdown', 'reload_config'] as const;

/** `node_control` (S→N, §2.12). `command` is an open string. */
export const NodeControlSchema = z.object({
  type: z.literal('node_control'),
  command: z.string(),
  reason: opt(z.string()),
});
export type NodeControl = z.infer<typeof NodeControlSchema>;

/** Every message a node sends to the scheduler. */
export const NodeToSchedulerMessageSchema = z.discriminatedUnion('type', [
  NodeRegisterSchema,
  NodeHeartbeatSchema,
  JobAckSchema,
  JobStartedSchema,
  JobResultSchema,
  NodeAsrPartialSchema,
  NodeErrorReportSchema,
]);
export type NodeToSchedulerMessage = z.infer<typeof NodeToSchedulerMessageSchema>;

/** Every message the scheduler sends to a node. */
export const SchedulerToNodeMessageSchema = z.discriminatedUnion('type', [
  NodeRegisterAckSchema,
  NodeErrorSchema,
  LegacyNodeErrorSchema,
  NodeStatusMessageSchema,
  JobAssignSchema,
  JobCancelSchema,
  NodeControlSchema,
]);
export type SchedulerToNodeMessage = z.infer<typeof SchedulerToNodeMessageSchema>;

export const NODE_TO_SCHEDULER_TYPES: ReadonlySet<NodeToSchedulerMessage['type']> = new Set(NodeToSchedulerMessageSchema.options.map((o) => o.shape.type.value));
export const SCHEDULER_TO_NODE_TYPES: ReadonlySet<SchedulerToNodeMessage['type']> = new Set(SchedulerToNodeMessageSchema.options.map((o) => o.shape.type.value));

/**
 * Parses one text frame received by the scheduler on `/ws/node`. Errors name the fields (and
 * `type` for an unknown type) and carry the received type in `details.type`, ready for a
 * `node_error INVALID_MESSAGE` reply (§1.5). `maxFrameBytes` defaults to 8 MiB.
 */
export function parseNodeToScheduler(raw: string | Buffer, maxFrameBytes?: number): ParseResult<NodeToSchedulerMessage> {
  return parseFrameWith(NodeToSchedulerMessageSchema, raw, { knownTypes: NODE_TO_SCHEDULER_TYPES, what: 'node message', maxFrameBytes });
}

/** Parses one text frame received by a node. An invalid one is logged and ignored (§1.5). */
export function parseSchedulerToNode(raw: string | Buffer, maxFrameBytes?: number): ParseResult<SchedulerToNodeMessage> {
  return parseFrameWith(SchedulerToNodeMessageSchema, raw, { knownTypes: SCHEDULER_TO_NODE_TYPES, what: 'scheduler message', maxFrameBytes });
}
