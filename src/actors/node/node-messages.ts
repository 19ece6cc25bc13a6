/**
 * The two messages a node builds about itself: `node_register` (PROTOCOL.md §2.2) and
 * `node_heartbeat` (§2.5). Pure: every input (hardware, report, sample, time, epoch, seq) is given.
 */
import type { ResourceSample } from '../../kernel/ports/hardware.port.js';
import type { Hardware, ResourceUsage } from '../../protocol/node-capabilities.schema.js';
import { CAPABILITY_SCHEMA_VERSION } from '../../protocol/node-link.schema.js';
import type { NodeHeartbeat, NodeRegister } from '../../protocol/node-link.schema.js';
import type { CapabilityReport } from './capability-report.js';

export interface NodeIdentity {
  /** Node software version (`node_register.version`). */
  version: string;
  /** This process's epoch (§3.2): one UUID per process start. */
  epoch: string;
  /** `accept_public_jobs` (§2.2). */
  acceptPublicJobs: boolean;
  /** `max_concurrent_jobs` (§2.2), ≥ 1. */
  maxConcurrentJobs: number;
}

export interface RegisterParts {
  identity: NodeIdentity;
  /** The last id the scheduler assigned; absent the very first time (§3.1 step 2). */
  nodeId: string | undefined;
  platform: string;
  hardware: Hardware;
  report: CapabilityReport;
}

/** `node_register` with every field §2.2 asks a linguamesh node to send, and nothing else. */
export function buildNodeRegister(parts: RegisterParts): NodeRegister {
  return {
    type: 'node_register',
    ...(parts.nodeId !== undefined ? { node_id: parts.nodeId } : {}),
    version: parts.identity.version,
    capability_schema_version: CAPABILITY_SCHEMA_VERSION,
    platform: parts.platform,
    hardware: parts.hardware,
    installed_models: [],
    installed_services: parts.report.installed_services,
    capability_by_type: parts.report.capability_by_type,
    features_supported: {},
    accept_public_jobs: parts.identity.acceptPublicJobs,
    language_capabilities: parts.report.language_capabilities,
    max_concurrent_jobs: parts.identity.maxConcurrentJobs,
    epoch: parts.identity.epoch,
  };
}

/** Percentages rounded to one decimal and clamped to 0–100. */
function percent(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.round(Math.min(100, Math.max(0, value)) * 10) / 10;
}

/** `resource_usage` from a sample and the number of jobs being processed (§2.1). */
export function resourceUsageOf(sample: ResourceSample, runningJobs: number): ResourceUsage {
  return {
    cpu_percent: percent(sample.cpuPercent),
    mem_percent: percent(sample.memPercent),
    running_jobs: Math.max(0, Math.round(runningJobs)),
    ...(sample.gpuPercent !== undefined ? { gpu_percent: percent(sample.gpuPercent) } : {}),
    ...(sample.gpuMemPercent !== undefined ? { gpu_mem_percent: percent(sample.gpuMemPercent) } : {}),
  };
}

export interface HeartbeatParts {
  nodeId: string;
  /** Node clock, epoch ms. */
  timestampMs: number;
  epoch: string;
  /** From 1, +1 per heartbeat of this process, across reconnects (§3.2). */
  seq: number;
  usage: ResourceUsage;
  report: CapabilityReport;
}

/** `node_heartbeat` carrying the full current report (§3.2) and `epoch`/`seq` (§3.2 [ext]). */
export function buildNodeHeartbeat(parts: HeartbeatParts): NodeHeartbeat {
  return {
    type: 'node_heartbeat',
    node_id: parts.nodeId,
    timestamp: Math.round(parts.timestampMs),
    epoch: parts.epoch,
    seq: parts.seq,
    resource_usage: parts.usage,
    installed_services: parts.report.installed_services,
    capability_by_type: parts.report.capability_by_type,
    language_capabilities: parts.report.language_capabilities,
  };
}
