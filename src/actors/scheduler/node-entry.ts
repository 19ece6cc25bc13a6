/**
 * What this scheduler instance holds about one node: its current registration and connection,
 * capabilities, load, status mirror and pools. `NodeView` is the read-only copy handed out.
 */
import type { AnyActorRef } from 'xstate';
import type { NodeCapabilities, NodeLoad, NodePools } from '../../kernel/ports/capability-store.port.js';
import type { LinkConnection } from '../../kernel/ports/link.port.js';
import { REGISTERED_REASON } from '../../machines/node-status.machine.js';
import type { Hardware, NodeStatus, ResourceUsage } from '../../protocol/index.js';
import type { ReportParts } from './heartbeat-parse.js';
import type { SeqMark } from './node-health.js';
import { NO_POOLS } from './pool-membership.js';

/** At most this many distinct report problems are remembered per node (each is logged once). */
const MAX_REMEMBERED_PROBLEMS = 64;

export interface Registration {
  conn: LinkConnection;
  registrationId: string;
  epoch: string | undefined;
  version: string;
  platform: string;
  hardware: Hardware;
  maxConcurrentJobs: number;
  caps: NodeCapabilities;
  registeredAt: number;
}

export class NodeEntry {
  /** Connection of the current registration; undefined once it closed. */
  conn: LinkConnection | undefined;
  registrationId = '';
  epoch: string | undefined;
  version = '';
  platform = '';
  hardware: Hardware = { cpu_cores: 0, memory_gb: 0 };
  hasGpu = false;
  maxConcurrentJobs = 0;
  caps!: NodeCapabilities;
  /** Mirror of the status machine, updated by its `node.statusChanged`. */
  status: NodeStatus = 'registering';
  reason = REGISTERED_REASON;
  load: NodeLoad | undefined;
  pools: NodePools = NO_POOLS;
  registeredAt = 0;
  lastHeartbeatAt: number | undefined;
  /** Last accepted seq of an epoch (§4.3). Kept across a re-registration with the same epoch. */
  lastSeq: SeqMark | undefined;
  /** The status machine `node:<id>`. */
  ref: AnyActorRef | undefined;
  /** The capability parts of the last parsed report, as parsed (the parser's fast path, §5.1 change check). */
  lastReport: ReportParts | undefined;
  /** True while a heartbeat is handled: its status changes are written with it. */
  batching = false;
  private problems: Set<string> | undefined;

  constructor(readonly nodeId: string) {}

  /** Takes over a newly accepted registration. Status and pools follow from the machine. */
  reset(registration: Registration): void {
    this.conn = registration.conn;
    this.registrationId = registration.registrationId;
    if (registration.epoch !== this.epoch) this.lastSeq = undefined;
    this.epoch = registration.epoch;
    this.version = registration.version;
    this.platform = registration.platform;
    this.hardware = registration.hardware;
    this.hasGpu = (registration.hardware.gpus ?? []).length > 0;
    this.maxConcurrentJobs = registration.maxConcurrentJobs;
    this.caps = registration.caps;
    this.registeredAt = registration.registeredAt;
    this.lastHeartbeatAt = undefined;
    this.load = undefined;
  }

  /** Whether `problem` is new for this node (then it is remembered, within a bound). */
  noteProblem(problem: string): boolean {
    const problems = (this.problems ??= new Set());
    if (problems.has(problem) || problems.size >= MAX_REMEMBERED_PROBLEMS) return false;
    problems.add(problem);
    return true;
  }
}

export interface NodeView {
  nodeId: string;
  status: NodeStatus;
  reason: string;
  /** Whether the node's registration still has an open connection. */
  connected: boolean;
  epoch: string | undefined;
  maxConcurrentJobs: number;
  load: NodeLoad | undefined;
  capabilities: NodeCapabilities;
  pools: NodePools;
  registeredAt: number;
  lastHeartbeatAt: number | undefined;
}

export function toNodeView(entry: NodeEntry): NodeView {
  return {
    nodeId: entry.nodeId,
    status: entry.status,
    reason: entry.reason,
    connected: entry.conn?.isOpen() ?? false,
    epoch: entry.epoch,
    maxConcurrentJobs: entry.maxConcurrentJobs,
    load: entry.load,
    capabilities: entry.caps,
    pools: entry.pools,
    registeredAt: entry.registeredAt,
    lastHeartbeatAt: entry.lastHeartbeatAt,
  };
}

/** The load part of a heartbeat's `resource_usage`. */
export function loadOf(usage: ResourceUsage): NodeLoad {
  return {
    runningJobs: usage.running_jobs,
    cpuPercent: usage.cpu_percent,
    memPercent: usage.mem_percent,
    ...(usage.gpu_percent !== undefined ? { gpuPercent: usage.gpu_percent } : {}),
    ...(usage.gpu_mem_percent !== undefined ? { gpuMemPercent: usage.gpu_mem_percent } : {}),
  };
}
