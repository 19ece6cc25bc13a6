/**
 * The node's local control endpoint (loopback HTTP, not part of the Lingua wire): the services a
 * node runs and what the operator can do with them (`linguamesh node services …`). Bodies mirror
 * the node's service registry snapshot, plus the wire status it is reported with (§3.3).
 */
import { z } from 'zod';
import { ServiceStatusSchema } from './common.schema.js';
import { Int, OpenObject } from './validation.js';

export const SERVICE_LIFECYCLE_STATES = ['stopped', 'starting', 'running', 'stopping', 'failed', 'backoff', 'error'] as const;
export const ServiceLifecycleStateSchema = z.enum(SERVICE_LIFECYCLE_STATES);

export const SERVICE_CONTROL_ACTIONS = ['start', 'stop', 'restart', 'enable', 'disable'] as const;
export const ServiceControlActionSchema = z.enum(SERVICE_CONTROL_ACTIONS);
export type ServiceControlAction = z.infer<typeof ServiceControlActionSchema>;

export const ServiceStateBodySchema = z.object({
  id: z.string(),
  type: z.string(),
  device: z.enum(['gpu', 'cpu', 'auto']),
  version: z.string().optional(),
  dir: z.string(),
  state: ServiceLifecycleStateSchema,
  wireStatus: ServiceStatusSchema,
  lastError: z.string().optional(),
  enabled: z.boolean(),
  languages: z.object({
    asr: z.array(z.string()),
    tts: z.array(z.string()),
    voices: z.record(z.string(), z.array(z.string())),
    nmtPairs: z.array(z.object({ src: z.string(), tgt: z.string() })),
    semantic: z.array(z.string()),
  }),
  baseUrl: z.string().optional(),
  ttsEndpoint: z.enum(['/tts', '/synthesize']),
  startupTimeoutMs: Int,
  warmupMs: Int.optional(),
  memMb: z.number().optional(),
  pid: Int.optional(),
});
export type ServiceStateBody = z.infer<typeof ServiceStateBodySchema>;

export const ServiceListBodySchema = z.object({ services: z.array(ServiceStateBodySchema) });
export type ServiceListBody = z.infer<typeof ServiceListBodySchema>;

export const ServiceRescanBodySchema = z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) });
export type ServiceRescanBody = z.infer<typeof ServiceRescanBodySchema>;

/** Error answer of the control endpoint (same shape as the node's other JSON errors). */
export const NodeControlErrorBodySchema = z.object({ error: z.string(), code: z.string(), details: OpenObject.optional() });
