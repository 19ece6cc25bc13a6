/**
 * The HardwarePort over systeminformation and nvidia-smi. Both sources are injectable, so tests
 * feed recorded outputs; `createHardwareAdapter()` with no sources probes this machine.
 *
 * GPUs: systeminformation's controllers with at least 1 GiB of memory count (a server's
 * BMC/VGA adapter with a few MiB is not a compute GPU). When it reports none, or an NVIDIA one,
 * `nvidia-smi` is asked and its list wins when it has one (ENGINES.md: on NVIDIA boxes it is the
 * reliable source; systeminformation may show a PCI BAR size as memory). A missing `nvidia-smi` is
 * remembered and never run again; it means no GPU from that source, never a failure.
 */
import si from 'systeminformation';
import { isKernelError, KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { GpuSource, HardwarePort, HardwareProbe, ResourceSample } from '../kernel/ports/hardware.port.js';
import type { GpuInfo } from '../protocol/node-capabilities.schema.js';
import { createNvidiaSmiRunner, NVIDIA_SMI_GPU_QUERY, NVIDIA_SMI_USAGE_QUERY, parseNvidiaSmiGpus, parseNvidiaSmiUsage } from './nvidia-smi.adapter.js';
import type { NvidiaSmiRunner } from './nvidia-smi.adapter.js';

/** The part of systeminformation the adapter reads (the real module satisfies it). */
export interface SystemInformationSource {
  cpu(): Promise<{ cores: number; manufacturer?: string; brand?: string }>;
  mem(): Promise<{ total: number; available: number }>;
  graphics(): Promise<{ controllers: { vendor?: string; model?: string; vram?: number | null; memoryTotal?: number }[] }>;
  currentLoad(): Promise<{ currentLoad: number }>;
}

export interface HardwareAdapterOptions {
  /** Default: the systeminformation module. */
  systemInformation?: SystemInformationSource;
  /** Default: runs `nvidia-smi` from PATH. */
  nvidiaSmi?: NvidiaSmiRunner;
  /** Default: `process.platform`. */
  platform?: string;
  logger?: Logger;
}

const GIB = 2 ** 30;
/** Smallest memory of a controller counted as a GPU, in MiB. */
const MIN_GPU_MIB = 1024;

/** The wire `platform` of a Node platform name (§2.2: `windows` | `linux` | `macos`, open). */
export function wirePlatform(platform: string): string {
  switch (platform) {
    case 'win32':
      return 'windows';
    case 'darwin':
      return 'macos';
    default:
      return platform;
  }
}

function gpusFromControllers(controllers: Awaited<ReturnType<SystemInformationSource['graphics']>>['controllers']): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const c of controllers) {
    const mib = c.memoryTotal ?? c.vram ?? undefined;
    if (mib === undefined || mib === null || !(mib >= MIN_GPU_MIB)) continue;
    const name = (c.model ?? '').trim() || (c.vendor ?? '').trim() || 'GPU';
    gpus.push({ name, memory_gb: Math.round(mib / 1024) });
  }
  return gpus;
}

const mentionsNvidia = (c: { vendor?: string; model?: string }) => /nvidia/i.test(`${c.vendor ?? ''} ${c.model ?? ''}`);

export function createHardwareAdapter(options: HardwareAdapterOptions = {}): HardwarePort {
  const source: SystemInformationSource = options.systemInformation ?? si;
  const nvidiaSmi = options.nvidiaSmi ?? createNvidiaSmiRunner();
  const platform = wirePlatform(options.platform ?? process.platform);
  const log = options.logger;
  let nvidiaSmiMissing = false;
  let nvidiaSmiWarned = false;

  /** nvidia-smi's stdout, or undefined when it is missing or failed (logged). */
  const runNvidiaSmi = async (args: readonly string[], signal: AbortSignal): Promise<string | undefined> => {
    if (nvidiaSmiMissing) return undefined;
    try {
      return await nvidiaSmi(args, signal);
    } catch (err) {
      if (isKernelError(err) && err.code === 'NVIDIA_SMI_MISSING') {
        nvidiaSmiMissing = true;
        log?.debug('nvidia-smi is not installed; no GPU from it');
      } else if (!nvidiaSmiWarned) {
        // Once: a box with the tool but no working driver would otherwise warn at every heartbeat.
        nvidiaSmiWarned = true;
        log?.warn({ err }, 'nvidia-smi failed; GPU facts from it are missing');
      }
      return undefined;
    }
  };

  return {
    async probe(signal) {
      let cpu: Awaited<ReturnType<SystemInformationSource['cpu']>>;
      let mem: Awaited<ReturnType<SystemInformationSource['mem']>>;
      try {
        [cpu, mem] = await Promise.all([source.cpu(), source.mem()]);
      } catch (err) {
        throw new KernelError('HARDWARE_PROBE_FAILED', 'cannot read CPU or memory', { cause: err, retryable: true });
      }
      let controllers: Awaited<ReturnType<SystemInformationSource['graphics']>>['controllers'] = [];
      try {
        controllers = (await source.graphics()).controllers ?? [];
      } catch (err) {
        log?.warn({ err }, 'systeminformation could not list graphics controllers');
      }
      let gpus = gpusFromControllers(controllers);
      let gpuSource: GpuSource = gpus.length > 0 ? 'systeminformation' : 'none';
      if (gpus.length === 0 || controllers.some(mentionsNvidia)) {
        const csv = await runNvidiaSmi(NVIDIA_SMI_GPU_QUERY, signal);
        const fromSmi = csv === undefined ? [] : parseNvidiaSmiGpus(csv);
        if (fromSmi.length > 0) {
          gpus = fromSmi;
          gpuSource = 'nvidia-smi';
        }
      }
      const cpuModel = [cpu.manufacturer, cpu.brand].filter((s) => s && s.trim() !== '').join(' ');
      const probe: HardwareProbe = {
        platform,
        ...(cpuModel ? { cpuModel } : {}),
        hardware: { cpu_cores: Math.max(0, Math.round(cpu.cores)), memory_gb: Math.max(0, Math.round(mem.total / GIB)), gpus },
        gpuSource,
      };
      return probe;
    },

    async sample(signal) {
      let load: Awaited<ReturnType<SystemInformationSource['currentLoad']>>;
      let mem: Awaited<ReturnType<SystemInformationSource['mem']>>;
      try {
        [load, mem] = await Promise.all([source.currentLoad(), source.mem()]);
      } catch (err) {
        throw new KernelError('RESOURCE_SAMPLE_FAILED', 'cannot read CPU load or memory', { cause: err, retryable: true });
      }
      const sample: ResourceSample = {
        cpuPercent: load.currentLoad,
        memPercent: mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : 0,
      };
      const csv = await runNvidiaSmi(NVIDIA_SMI_USAGE_QUERY, signal);
      const gpu = csv === undefined ? undefined : parseNvidiaSmiUsage(csv);
      return { ...sample, ...gpu };
    },
  };
}
