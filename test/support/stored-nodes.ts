/** Store records for the capability store tests. */
import type { StoredNode } from '../../src/kernel/ports/capability-store.port.js';

export function storedNode(nodeId: string, overrides: Partial<StoredNode> = {}): StoredNode {
  return {
    nodeId,
    owner: 'sched-A',
    registrationId: `sched-A/${nodeId}/1`,
    epoch: '7c0f7e1e-2b1a-4c55-9d2f-0b8f3f1d6a11',
    version: '0.1.0',
    platform: 'linux',
    hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] },
    maxConcurrentJobs: 4,
    status: 'registering',
    reason: 'registered',
    capabilities: {
      installedServices: [{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }],
      capabilityByType: [{ type: 'asr', ready: true, ready_impl_ids: ['asr-en'] }],
      asrLanguages: ['en'],
      ttsLanguages: ['es'],
      semanticLanguages: [],
      nmtPairs: [{ src: 'en', tgt: 'es' }],
      nmtPairsReported: true,
    },
    pools: { speech: [], text: [] },
    registeredAt: 1_767_225_600_000,
    ...overrides,
  };
}
