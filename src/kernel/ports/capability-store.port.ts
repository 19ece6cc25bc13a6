/**
 * The scheduler's shared node state (PROTOCOL.md §5.1): per node its registration, capabilities,
 * status, load and pool membership. The scheduler instance that holds a node's connection writes
 * its record; any instance may read every record. In memory by default; in Redis when several
 * scheduler instances share the fleet, so everything another instance may need lives behind this
 * port (ARCHITECTURE.md "Scale").
 *
 * Records are values: a caller never mutates an object after handing it to the store, nor one it
 * got back.
 */
import type { NodeStatus } from '../../protocol/common.schema.js';
import type { LanguagePair } from '../../protocol/language.js';
import type { CapabilityByType, Hardware, InstalledService } from '../../protocol/node-capabilities.schema.js';

/** A node's capabilities, normalized so that two reports meaning the same thing compare equal (§5.1). */
export interface NodeCapabilities {
  /** Sorted by `service_id`, then `type`. */
  installedServices: InstalledService[];
  /** Sorted by `type`, `ready_impl_ids` sorted. */
  capabilityByType: CapabilityByType[];
  /** Language sets: normalized, sorted, without `auto` (§1.7). */
  asrLanguages: string[];
  ttsLanguages: string[];
  semanticLanguages: string[];
  /** Directed NMT pairs, sorted by pool key; for a Lingua node derived from asr × semantic (§5.1). */
  nmtPairs: LanguagePair[];
  /** False when the node sent no `nmt_pairs` (a Lingua node) and `nmtPairs` was derived. */
  nmtPairsReported: boolean;
}

/** The latest `resource_usage` of a node plus its capacity (§2.1, §5.3). */
export interface NodeLoad {
  runningJobs: number;
  cpuPercent: number;
  memPercent: number;
  gpuPercent?: number;
  gpuMemPercent?: number;
}

/**
 * Which pipelines a pool serves: `speech` jobs want TTS (`use_tts` true), `text` jobs do not
 * (`use_tts` false). Both translate (`use_nmt` true) (§5.2).
 */
export type PoolVariant = 'speech' | 'text';
export const POOL_VARIANTS: readonly PoolVariant[] = ['speech', 'text'];

/** Pool keys (`src:tgt`, sorted) a node is a member of, per variant. */
export type NodePools = Record<PoolVariant, string[]>;

export interface StoredNode {
  nodeId: string;
  /** Id of the scheduler instance that holds the node's connection. */
  owner: string;
  /**
   * Fencing token of the registration that wrote this record. An update made for an older
   * registration of the same node (a late write of a closed socket) is refused.
   */
  registrationId: string;
  /** The node process's epoch (§3.2), when it sent one. */
  epoch?: string;
  version: string;
  platform: string;
  hardware: Hardware;
  maxConcurrentJobs: number;
  status: NodeStatus;
  /** `node_status.reason` of the last transition; `registered` after a registration. */
  reason: string;
  capabilities: NodeCapabilities;
  /** Absent until the first accepted heartbeat. */
  load?: NodeLoad;
  pools: NodePools;
  /** Scheduler time of the accepted registration, ms since the epoch. */
  registeredAt: number;
  /** Scheduler time of the last accepted heartbeat, ms since the epoch. */
  lastHeartbeatAt?: number;
}

/** The parts of a record that change while a registration lasts. */
export type StoredNodePatch = Partial<Pick<StoredNode, 'status' | 'reason' | 'capabilities' | 'load' | 'pools' | 'lastHeartbeatAt'>>;

/** Every method rejects only with KernelErrors (`STORE_UNAVAILABLE` when the backend is unreachable). */
export interface CapabilityStorePort {
  /** Writes the whole record of a newly accepted registration, replacing any earlier one. */
  put(node: StoredNode, signal: AbortSignal): Promise<void>;
  /**
   * Applies `patch` to the record of `nodeId` if it was written by registration `registrationId`,
   * and refreshes its expiry. Resolves false (changing nothing) when the record is absent or
   * belongs to another registration.
   */
  update(nodeId: string, registrationId: string, patch: StoredNodePatch, signal: AbortSignal): Promise<boolean>;
  get(nodeId: string, signal: AbortSignal): Promise<StoredNode | undefined>;
  /** Every live record, sorted by node id. */
  list(signal: AbortSignal): Promise<StoredNode[]>;
  /** Removes the record if it belongs to registration `registrationId`; resolves whether it did. */
  remove(nodeId: string, registrationId: string, signal: AbortSignal): Promise<boolean>;
  /** Removes every record owned by scheduler instance `owner` (its shutdown); resolves the count. */
  removeOwnedBy(owner: string, signal: AbortSignal): Promise<number>;
  /** Pool key → member node ids (both sorted) for one variant, over every live record. */
  pools(variant: PoolVariant, signal: AbortSignal): Promise<Record<string, string[]>>;
  /** Releases the backend connection. Idempotent. */
  close(): Promise<void>;
}
