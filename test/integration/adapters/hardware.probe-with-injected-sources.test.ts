import { describe, expect, it } from 'vitest';
import { createHardwareAdapter, wirePlatform } from '../../../src/adapters/hardware.adapter.js';
import type { SystemInformationSource } from '../../../src/adapters/hardware.adapter.js';
import { createNvidiaSmiRunner, NVIDIA_SMI_GPU_QUERY, parseNvidiaSmiGpus, parseNvidiaSmiUsage } from '../../../src/adapters/nvidia-smi.adapter.js';
import type { NvidiaSmiRunner } from '../../../src/adapters/nvidia-smi.adapter.js';
import { KernelError } from '../../../src/kernel/errors.js';

type Controllers = Awaited<ReturnType<SystemInformationSource['graphics']>>['controllers'];

function systemInformation(controllers: Controllers, overrides: Partial<SystemInformationSource> = {}): SystemInformationSource {
  return {
    cpu: async () => ({ cores: 16, manufacturer: 'AMD', brand: 'Ryzen 9 7950X' }),
    mem: async () => ({ total: 25_276_063_744, available: 10_110_425_498 }),
    graphics: async () => ({ controllers }),
    currentLoad: async () => ({ currentLoad: 12.345 }),
    ...overrides,
  };
}

/** An nvidia-smi runner answering recorded outputs per query, counting calls. */
function recordedNvidiaSmi(outputs: { gpus?: string; usage?: string } | KernelError) {
  const calls: string[][] = [];
  const runner: NvidiaSmiRunner = async (args) => {
    calls.push([...args]);
    if (outputs instanceof KernelError) throw outputs;
    const out = args[0] === NVIDIA_SMI_GPU_QUERY[0] ? outputs.gpus : outputs.usage;
    if (out === undefined) throw new KernelError('NVIDIA_SMI_FAILED', 'no output recorded');
    return out;
  };
  return { runner, calls };
}

const signal = new AbortController().signal;

describe('hardware probe with injected systeminformation and nvidia-smi outputs', () => {
  it('GPU present in systeminformation: name and whole GB; memory = round(bytes / 2^30); nvidia-smi not needed for AMD', async () => {
    const smi = recordedNvidiaSmi({});
    const port = createHardwareAdapter({ systemInformation: systemInformation([{ vendor: 'Advanced Micro Devices, Inc.', model: 'Radeon RX 7900 XTX', vram: 24_560 }]), nvidiaSmi: smi.runner, platform: 'linux' });
    expect(await port.probe(signal)).toEqual({
      platform: 'linux',
      cpuModel: 'AMD Ryzen 9 7950X',
      hardware: { cpu_cores: 16, memory_gb: 24, gpus: [{ name: 'Radeon RX 7900 XTX', memory_gb: 24 }] },
      gpuSource: 'systeminformation',
    });
    expect(smi.calls).toEqual([]);
  });

  it('no controller in systeminformation: the GPUs come from nvidia-smi (round(MiB / 1024))', async () => {
    const smi = recordedNvidiaSmi({ gpus: 'NVIDIA H100 80GB HBM3, 81559\nNVIDIA GeForce RTX 4070, 12282\n' });
    const port = createHardwareAdapter({ systemInformation: systemInformation([]), nvidiaSmi: smi.runner });
    const probe = await port.probe(signal);
    expect(probe.hardware.gpus).toEqual([
      { name: 'NVIDIA H100 80GB HBM3', memory_gb: 80 },
      { name: 'NVIDIA GeForce RTX 4070', memory_gb: 12 },
    ]);
    expect(probe.gpuSource).toBe('nvidia-smi');
    expect(smi.calls).toEqual([[...NVIDIA_SMI_GPU_QUERY]]);
  });

  it('an NVIDIA controller that systeminformation sizes by its PCI BAR is corrected by nvidia-smi', async () => {
    const smi = recordedNvidiaSmi({ gpus: 'NVIDIA A10, 23028' });
    const port = createHardwareAdapter({ systemInformation: systemInformation([{ vendor: 'NVIDIA Corporation', model: 'GA102GL [A10]', vram: 16 }]), nvidiaSmi: smi.runner });
    expect((await port.probe(signal)).hardware.gpus).toEqual([{ name: 'NVIDIA A10', memory_gb: 22 }]);
  });

  it('GPU absent: a small display adapter is not a GPU, and a failing nvidia-smi means none', async () => {
    const smi = recordedNvidiaSmi(new KernelError('NVIDIA_SMI_FAILED', "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"));
    const port = createHardwareAdapter({ systemInformation: systemInformation([{ vendor: 'Matrox Electronics Systems Ltd.', model: 'MGA G200e', vram: 16 }, { vendor: 'Cirrus Logic', model: 'GD 5446', vram: null }]), nvidiaSmi: smi.runner });
    const probe = await port.probe(signal);
    expect(probe.hardware.gpus).toEqual([]);
    expect(probe.gpuSource).toBe('none');
  });

  it('nvidia-smi missing (a real spawn of a command that does not exist): no GPUs, no crash, never run again', async () => {
    const real = createNvidiaSmiRunner({ command: '/nonexistent/bin/nvidia-smi' });
    await expect(real([...NVIDIA_SMI_GPU_QUERY], signal)).rejects.toMatchObject({ code: 'NVIDIA_SMI_MISSING' });
    let runs = 0;
    const counting: NvidiaSmiRunner = (args, s) => {
      runs += 1;
      return real(args, s);
    };
    const port = createHardwareAdapter({ systemInformation: systemInformation([]), nvidiaSmi: counting });
    const probe = await port.probe(signal);
    expect(probe.hardware.gpus).toEqual([]);
    const sample = await port.sample(signal);
    expect(sample).toEqual({ cpuPercent: 12.345, memPercent: expect.closeTo(60, 5) });
    expect(sample).not.toHaveProperty('gpuPercent');
    await port.sample(signal);
    expect(runs).toBe(1);
  });

  it('CPU or memory unreadable → HARDWARE_PROBE_FAILED (retryable); unreadable graphics → no GPUs', async () => {
    const broken = createHardwareAdapter({ systemInformation: systemInformation([], { cpu: async () => Promise.reject(new Error('EACCES /proc/cpuinfo')) }), nvidiaSmi: recordedNvidiaSmi({}).runner });
    await expect(broken.probe(signal)).rejects.toMatchObject({ code: 'HARDWARE_PROBE_FAILED', retryable: true });
    const noGraphics = createHardwareAdapter({ systemInformation: systemInformation([], { graphics: async () => Promise.reject(new Error('lspci missing')) }), nvidiaSmi: recordedNvidiaSmi(new KernelError('NVIDIA_SMI_MISSING', 'missing')).runner });
    expect((await noGraphics.probe(signal)).hardware.gpus).toEqual([]);
  });

  it('samples CPU, memory and GPU load', async () => {
    const smi = recordedNvidiaSmi({ usage: '35, 2048, 8192\n45, 0, 8192\n' });
    const port = createHardwareAdapter({ systemInformation: systemInformation([]), nvidiaSmi: smi.runner });
    expect(await port.sample(signal)).toEqual({ cpuPercent: 12.345, memPercent: (1 - 10_110_425_498 / 25_276_063_744) * 100, gpuPercent: 40, gpuMemPercent: 12.5 });
  });

  it('platform names on the wire', () => {
    expect(['linux', 'win32', 'darwin', 'freebsd'].map(wirePlatform)).toEqual(['linux', 'windows', 'macos', 'freebsd']);
  });
});

describe('nvidia-smi output parsing', () => {
  it('GPU list: names with commas, blank lines, unreadable memory skipped', () => {
    expect(parseNvidiaSmiGpus('Tesla T4, 15360\n\nWeird, Name, 8192\r\nBroken GPU, [N/A]\n')).toEqual([
      { name: 'Tesla T4', memory_gb: 15 },
      { name: 'Weird, Name', memory_gb: 8 },
    ]);
    expect(parseNvidiaSmiGpus('')).toEqual([]);
  });

  it('usage: [N/A] and [Not Supported] cells are left out', () => {
    expect(parseNvidiaSmiUsage('[N/A], 1024, 4096\n')).toEqual({ gpuMemPercent: 25 });
    expect(parseNvidiaSmiUsage('50, [Not Supported], [Not Supported]\n')).toEqual({ gpuPercent: 50 });
    expect(parseNvidiaSmiUsage('[N/A], [N/A], [N/A]\n')).toBeUndefined();
  });
});
