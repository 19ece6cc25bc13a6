/**
 * Node-link frames exactly as PROTOCOL.md §2 shapes them, built from a small description of a
 * node's services. The default node has a GPU and running, ready ASR [en], NMT en→es and TTS [es].
 */
export const EPOCH = '7c0f7e1e-2b1a-4c55-9d2f-0b8f3f1d6a11';
export const OTHER_EPOCH = '0b6e4f2c-9a1d-4d0e-8b9f-3c2e1a0f5d77';

export interface NodeServices {
  asr?: string[] | false;
  /** NMT pairs as `src:tgt`; `false`: no NMT service; `'lingua'`: NMT running but no `nmt_pairs` sent. */
  nmt?: string[] | false | 'lingua';
  tts?: string[] | false;
  semantic?: string[];
  /** A type that is installed but not running (status `stopped`, capability not ready). */
  stopped?: Array<'asr' | 'nmt' | 'tts'>;
}

export const DEFAULT_SERVICES: Required<Pick<NodeServices, 'asr' | 'nmt' | 'tts'>> = { asr: ['en'], nmt: ['en:es'], tts: ['es'] };

type Json = Record<string, unknown>;

function capabilityFields(services: NodeServices): Json {
  const s = { ...DEFAULT_SERVICES, ...services };
  const stopped = new Set(s.stopped ?? []);
  const installed: Json[] = [];
  const caps: Json[] = [];
  for (const type of ['asr', 'nmt', 'tts'] as const) {
    if (s[type] === false) continue;
    const running = !stopped.has(type);
    installed.push({ service_id: `${type}-1`, type, device: 'gpu', status: running ? 'running' : 'stopped' });
    caps.push(running ? { type, ready: true, ready_impl_ids: [`${type}-1`] } : { type, ready: false, reason: 'no_running_impl' });
  }
  const running = (type: 'asr' | 'tts') => (s[type] === false || stopped.has(type) ? [] : (s[type] as string[]));
  const language: Json = { asr_languages: running('asr'), tts_languages: running('tts'), semantic_languages: s.semantic ?? [], semantic_core_ready: (s.semantic ?? []).length > 0 };
  if (Array.isArray(s.nmt)) {
    language.nmt_pairs = stopped.has('nmt') ? [] : s.nmt.map((p) => ({ src: p.split(':')[0], tgt: p.split(':')[1] }));
  }
  return { installed_services: installed, capability_by_type: caps, language_capabilities: language };
}

/** `node_register` (§2.2). `overrides` replace top-level fields (`node_id`, `hardware`, …). */
export function registerFrame(overrides: Json = {}, services: NodeServices = {}): Json {
  return {
    type: 'node_register',
    version: '0.1.0',
    capability_schema_version: '2.0',
    platform: 'linux',
    hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] },
    installed_models: [],
    ...capabilityFields(services),
    features_supported: {},
    accept_public_jobs: true,
    max_concurrent_jobs: 4,
    epoch: EPOCH,
    ...overrides,
  };
}

/** `node_heartbeat` (§2.5). */
export function heartbeatFrame(nodeId: string, seq: number | undefined, services: NodeServices = {}, overrides: Json = {}): Json {
  return {
    type: 'node_heartbeat',
    node_id: nodeId,
    timestamp: 1_767_225_600_000,
    ...(seq !== undefined ? { epoch: EPOCH, seq } : {}),
    resource_usage: { cpu_percent: 23.5, mem_percent: 58.1, gpu_percent: 41.0, running_jobs: 1 },
    ...capabilityFields(services),
    ...overrides,
  };
}

/** Services that make a heartbeat unhealthy: TTS installed but not running. */
export const UNHEALTHY: NodeServices = { stopped: ['tts'] };
