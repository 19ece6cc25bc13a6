/**
 * What the node knows about the machine it runs on: a one-time probe of CPU, memory and GPUs for
 * `node_register.hardware` (PROTOCOL.md §2.1, §2.2), and resource samples for
 * `node_heartbeat.resource_usage` (§2.5). The adapter reads systeminformation and, on NVIDIA boxes,
 * `nvidia-smi`; tests inject fakes.
 */
import type { Hardware } from '../../protocol/node-capabilities.schema.js';

/** Where the GPU list of a probe came from. */
export type GpuSource = 'systeminformation' | 'nvidia-smi' | 'none';

export interface HardwareProbe {
  /** `linux` | `windows` | `macos`, or the Node platform name on anything else (open, §2.2). */
  platform: string;
  /** CPU model for people (not on the wire). */
  cpuModel?: string;
  /** The wire object: whole cores, whole GB of memory, GPUs with whole GB each (§1.4). */
  hardware: Hardware;
  gpuSource: GpuSource;
}

/** One resource sample. Percentages are 0–100; the GPU ones are absent when unknown. */
export interface ResourceSample {
  cpuPercent: number;
  memPercent: number;
  gpuPercent?: number;
  gpuMemPercent?: number;
}

export interface HardwarePort {
  /** Probes the machine. Rejects with `HARDWARE_PROBE_FAILED` (retryable) when CPU or memory cannot be read. */
  probe(signal: AbortSignal): Promise<HardwareProbe>;
  /** Samples CPU, memory and (when a GPU tool is available) GPU load. Rejects with `RESOURCE_SAMPLE_FAILED`. */
  sample(signal: AbortSignal): Promise<ResourceSample>;
}
