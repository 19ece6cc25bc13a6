/** A HardwarePort with a fixed probe and scripted samples. */
import type { HardwarePort, HardwareProbe, ResourceSample } from '../../src/kernel/ports/hardware.port.js';

export const GPU_BOX_PROBE: HardwareProbe = {
  platform: 'linux',
  cpuModel: 'Test CPU',
  hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] },
  gpuSource: 'nvidia-smi',
};

export class FakeHardware implements HardwarePort {
  probes = 0;
  samples = 0;

  constructor(
    public probeResult: HardwareProbe = GPU_BOX_PROBE,
    public sampleResult: ResourceSample = { cpuPercent: 23.46, memPercent: 58.1, gpuPercent: 41, gpuMemPercent: 12.5 },
  ) {}

  async probe(): Promise<HardwareProbe> {
    this.probes += 1;
    return this.probeResult;
  }

  async sample(): Promise<ResourceSample> {
    this.samples += 1;
    return this.sampleResult;
  }
}
