/**
 * The scheduler's operator API under `/api/v1` as a client reads it (`linguamesh status`): nodes
 * (the capability store's records, or this instance's own view when the store is unreachable),
 * pool membership per pipeline variant, and what the dispatcher holds. These bodies are ours, not
 * Lingua's (PROTOCOL.md §1.1 leaves other HTTP paths to the implementation); unknown members are
 * ignored, as everywhere on the wire (§1.4).
 */
import { z } from 'zod';
import { InstalledServiceSchema, NmtPairSchema } from './node-capabilities.schema.js';
import { lenientList } from './validation.js';

/** A node's latest load (`resource_usage` plus capacity), as the API reports it. */
export const ApiNodeLoadSchema = z.object({
  runningJobs: z.number(),
  cpuPercent: z.number(),
  memPercent: z.number(),
  gpuPercent: z.number().optional(),
  gpuMemPercent: z.number().optional(),
});
export type ApiNodeLoad = z.infer<typeof ApiNodeLoadSchema>;

export const ApiNodeSchema = z.object({
  nodeId: z.string(),
  /** NodeStatus (§1.7), read as an open string so a newer scheduler's status still shows. */
  status: z.string(),
  reason: z.string(),
  maxConcurrentJobs: z.number(),
  /** The scheduler instance holding the node's connection (absent in the local view). */
  owner: z.string().optional(),
  version: z.string().optional(),
  platform: z.string().optional(),
  hardware: z
    .object({
      cpu_cores: z.number(),
      memory_gb: z.number(),
      gpus: z.array(z.object({ name: z.string().optional(), memory_gb: z.number().optional() })).nullish(),
    })
    .optional(),
  capabilities: z.object({
    installedServices: lenientList(InstalledServiceSchema, 'capabilities.installedServices'),
    asrLanguages: z.array(z.string()),
    ttsLanguages: z.array(z.string()),
    semanticLanguages: z.array(z.string()).optional(),
    nmtPairs: z.array(NmtPairSchema),
  }),
  load: ApiNodeLoadSchema.optional(),
  pools: z.object({ speech: z.array(z.string()), text: z.array(z.string()) }),
  /** Scheduler time, ms since the epoch. */
  registeredAt: z.number(),
  lastHeartbeatAt: z.number().optional(),
});
export type ApiNode = z.infer<typeof ApiNodeSchema>;

/** `source`: `store` (every instance's nodes) or `local` (the store was unreachable). */
export const ApiNodesBodySchema = z.object({
  source: z.string(),
  nodes: z.array(ApiNodeSchema),
});
export type ApiNodesBody = z.infer<typeof ApiNodesBodySchema>;

export const ApiPoolsBodySchema = z.object({
  source: z.string(),
  pipeline: z.enum(['speech', 'text']),
  /** Pool key (`src:tgt`) → member node ids. */
  pools: z.record(z.string(), z.array(z.string())),
});
export type ApiPoolsBody = z.infer<typeof ApiPoolsBodySchema>;

export const ApiDispatchBodySchema = z.object({
  /** Sessions open on this instance. */
  sessions: z.number(),
  jobs: z.object({
    /** Jobs waiting for a node. */
    queued: z.number(),
    /** Jobs whose current attempt is assigned to a node. */
    inFlight: z.number(),
    /** Slots held per node id. */
    reservations: z.record(z.string(), z.number()),
  }),
});
export type ApiDispatchBody = z.infer<typeof ApiDispatchBodySchema>;

/** An error answer of the scheduler's HTTP API. */
export const ApiErrorBodySchema = z.object({
  error: z.string(),
  code: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
