/**
 * `nvidia-smi` as a source of GPU facts: the reliable one on NVIDIA boxes (ENGINES.md), where
 * systeminformation may list no controller or only a PCI BAR size as memory. Parsing is kept
 * apart from running, so tests feed recorded outputs.
 */
import { execFile } from 'node:child_process';
import { KernelError } from '../kernel/errors.js';
import type { GpuInfo } from '../protocol/node-capabilities.schema.js';

/** Runs `nvidia-smi` with `args` and resolves its stdout. Rejects with `NVIDIA_SMI_MISSING` when the tool is not installed. */
export type NvidiaSmiRunner = (args: readonly string[], signal: AbortSignal) => Promise<string>;

export const NVIDIA_SMI_GPU_QUERY = ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'] as const;
export const NVIDIA_SMI_USAGE_QUERY = ['--query-gpu=utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'] as const;

export interface NvidiaSmiRunnerOptions {
  /** The executable. Default `nvidia-smi` (looked up on PATH). */
  command?: string;
  /** Bound of one run, in ms. Default 5 000. */
  timeoutMs?: number;
}

export function createNvidiaSmiRunner(options: NvidiaSmiRunnerOptions = {}): NvidiaSmiRunner {
  const command = options.command ?? 'nvidia-smi';
  return (args, signal) =>
    new Promise((resolve, reject) => {
      execFile(command, [...args], { timeout: options.timeoutMs ?? 5_000, signal, windowsHide: true, encoding: 'utf8' }, (err, stdout) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const errno = (err as NodeJS.ErrnoException).code;
        if (errno === 'ENOENT') reject(new KernelError('NVIDIA_SMI_MISSING', `${command} is not installed`, { cause: err }));
        else reject(new KernelError('NVIDIA_SMI_FAILED', `${command} failed: ${err.message}`, { cause: err, retryable: true }));
      });
    });
}

/** A number of an nvidia-smi CSV cell, or undefined for `[N/A]`, `[Not Supported]` and the like. */
function cellNumber(cell: string | undefined): number | undefined {
  if (cell === undefined) return undefined;
  const value = Number(cell.trim());
  return cell.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

function rows(csv: string): string[][] {
  return csv
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(',').map((cell) => cell.trim()));
}

/**
 * GPUs from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`: one line per
 * GPU, `NAME, MiB`. `memory_gb` = round(MiB / 1024) (PROTOCOL.md §2.1). A line whose name contains
 * a comma keeps it (the memory is the last cell); lines without a readable memory are skipped.
 */
export function parseNvidiaSmiGpus(csv: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const cells of rows(csv)) {
    if (cells.length < 2) continue;
    const mib = cellNumber(cells[cells.length - 1]);
    const name = cells.slice(0, -1).join(', ');
    if (mib === undefined || name === '') continue;
    gpus.push({ name, memory_gb: Math.round(mib / 1024) });
  }
  return gpus;
}

/**
 * Load over all GPUs from `--query-gpu=utilization.gpu,memory.used,memory.total`: the mean
 * utilization, and memory used over memory total (both 0–100). Undefined when nothing is readable.
 */
export function parseNvidiaSmiUsage(csv: string): { gpuPercent?: number; gpuMemPercent?: number } | undefined {
  const utilizations: number[] = [];
  let used = 0;
  let total = 0;
  for (const cells of rows(csv)) {
    const utilization = cellNumber(cells[0]);
    const memUsed = cellNumber(cells[1]);
    const memTotal = cellNumber(cells[2]);
    if (utilization !== undefined) utilizations.push(utilization);
    if (memUsed !== undefined && memTotal !== undefined && memTotal > 0) {
      used += memUsed;
      total += memTotal;
    }
  }
  if (utilizations.length === 0 && total === 0) return undefined;
  return {
    ...(utilizations.length > 0 ? { gpuPercent: utilizations.reduce((a, b) => a + b, 0) / utilizations.length } : {}),
    ...(total > 0 ? { gpuMemPercent: (used / total) * 100 } : {}),
  };
}
