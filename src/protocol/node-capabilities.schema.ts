/**
 * The shared objects of the node link (PROTOCOL.md §2.1): hardware, installed models and services,
 * readiness per service type, languages and load. The lists named in §1.5 are lenient: an item that
 * fails validation (an unknown enum value such as service type `lexicon`, device `npu` or status
 * `starting`, a missing member, a wrong type) is dropped and recorded in `ParseResult.dropped`,
 * and the rest of the message is kept.
 */
import { z } from 'zod';
import { DeviceTypeSchema, ModelKindSchema, ServiceStatusSchema, ServiceTypeSchema } from './common.schema.js';
import { Int, lenientList, opt } from './validation.js';

/** PROTOCOL.md §2.1 GpuInfo; `memory_gb` = round(MiB / 1024). */
export const GpuInfoSchema = z.object({
  name: z.string(),
  memory_gb: Int,
});
export type GpuInfo = z.infer<typeof GpuInfoSchema>;

/** PROTOCOL.md §2.1 Hardware. `gpus` is a lenient list (§1.5). */
export const HardwareSchema = z.object({
  cpu_cores: Int,
  memory_gb: Int,
  gpus: opt(lenientList(GpuInfoSchema, 'hardware.gpus')),
});
export type Hardware = z.infer<typeof HardwareSchema>;

/** PROTOCOL.md §2.1 InstalledModel; `enabled` absent means true. */
export const InstalledModelSchema = z.object({
  model_id: z.string(),
  kind: ModelKindSchema,
  src_lang: opt(z.string()),
  tgt_lang: opt(z.string()),
  dialect: opt(z.string()),
  version: z.string(),
  enabled: opt(z.boolean()),
});
export type InstalledModel = z.infer<typeof InstalledModelSchema>;

/**
 * PROTOCOL.md §2.1 InstalledService. `status` is `running` only once the service passed its health
 * check, `stopped` while it starts (§3.3).
 */
export const InstalledServiceSchema = z.object({
  service_id: z.string(),
  type: ServiceTypeSchema,
  device: DeviceTypeSchema,
  status: ServiceStatusSchema,
  version: opt(z.string()),
  model_id: opt(z.string()),
  engine: opt(z.string()),
  mem_mb: opt(Int),
  warmup_ms: opt(Int),
  last_error: opt(z.string()),
});
export type InstalledService = z.infer<typeof InstalledServiceSchema>;

/** Known `capability_by_type.reason` values (the field is an open string). */
export const CAPABILITY_REASONS = ['no_impl', 'no_running_impl', 'only_cpu_running', 'gpu_impl_not_running'] as const;

/** PROTOCOL.md §2.1 CapabilityByType. Lingua's `devices` member is ignored (stripped). */
export const CapabilityByTypeSchema = z.object({
  type: ServiceTypeSchema,
  ready: z.boolean(),
  reason: opt(z.string()),
  ready_impl_ids: opt(z.array(z.string())),
});
export type CapabilityByType = z.infer<typeof CapabilityByTypeSchema>;

/** One directed pair of `language_capabilities.nmt_pairs` [ext]. */
export const NmtPairSchema = z.object({
  src: z.string(),
  tgt: z.string(),
});
export type NmtPair = z.infer<typeof NmtPairSchema>;

/**
 * PROTOCOL.md §2.1 LanguageCapabilities. Lists are as sent: compare them only after
 * `normalizeLanguageSet` / `normalizePairs` (§1.7). A heartbeat without `nmt_pairs` comes from a
 * Lingua node (§5.1).
 */
export const LanguageCapabilitiesSchema = z.object({
  asr_languages: opt(z.array(z.string())),
  tts_languages: opt(z.array(z.string())),
  semantic_languages: opt(z.array(z.string())),
  semantic_core_ready: opt(z.boolean()),
  nmt_pairs: opt(lenientList(NmtPairSchema, 'language_capabilities.nmt_pairs')),
});
export type LanguageCapabilities = z.infer<typeof LanguageCapabilitiesSchema>;

/**
 * PROTOCOL.md §2.1 ResourceUsage. Percentages are 0–100 but any number is accepted here: an
 * out-of-range `gpu_percent` makes a heartbeat unhealthy (§4.3), not invalid.
 */
export const ResourceUsageSchema = z.object({
  cpu_percent: z.number(),
  mem_percent: z.number(),
  running_jobs: Int,
  gpu_percent: opt(z.number()),
  gpu_mem_percent: opt(z.number()),
  gpu_queue_length: opt(Int),
});
export type ResourceUsage = z.infer<typeof ResourceUsageSchema>;

/** Lenient lists shared by `node_register` and `node_heartbeat` (PROTOCOL.md §1.5). */
export const InstalledModelListSchema = lenientList(InstalledModelSchema, 'installed_models');
export const InstalledServiceListSchema = lenientList(InstalledServiceSchema, 'installed_services');
export const CapabilityByTypeListSchema = lenientList(CapabilityByTypeSchema, 'capability_by_type');
