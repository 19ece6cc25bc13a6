/**
 * Whether an accepted heartbeat is healthy (PROTOCOL.md §4.3) and whether it is stale (§4.3
 * epoch/seq). Pure rules: the status machine only counts the answers.
 */
import type { ServiceType } from '../../protocol/common.schema.js';
import type { ResourceUsage } from '../../protocol/node-capabilities.schema.js';
import type { NodeCapabilities } from '../../kernel/ports/capability-store.port.js';
import { isTypeReady } from './node-capabilities.js';

export interface HealthRules {
  allowCpuNodes: boolean;
  requiredServiceTypes: readonly ServiceType[];
}

/**
 * Healthy = (1) the registration reported a GPU or CPU nodes are allowed, (2) every required type is
 * ready, (3) `gpu_percent`, when present, lies in [0, 100].
 */
export function isHealthyHeartbeat(hasGpu: boolean, caps: NodeCapabilities, usage: ResourceUsage, rules: HealthRules): boolean {
  if (!hasGpu && !rules.allowCpuNodes) return false;
  if (!rules.requiredServiceTypes.every((type) => isTypeReady(caps, type, rules.allowCpuNodes))) return false;
  const gpu = usage.gpu_percent;
  return gpu === undefined || (gpu >= 0 && gpu <= 100);
}

/** The last accepted sequence number of one epoch. */
export interface SeqMark {
  epoch: string;
  seq: number;
}

/**
 * §4.3: stale when the registration recorded an epoch and the heartbeat carries another, or when it
 * carries epoch and seq and seq is not above the last accepted seq of that epoch. A heartbeat
 * without epoch/seq (a Lingua node) is never stale.
 */
export function isStaleHeartbeat(registeredEpoch: string | undefined, last: SeqMark | undefined, epoch: string | undefined, seq: number | undefined): boolean {
  if (epoch === undefined) return false;
  if (registeredEpoch !== undefined && epoch !== registeredEpoch) return true;
  return seq !== undefined && last !== undefined && last.epoch === epoch && seq <= last.seq;
}
