/**
 * Documents a node keeps on its own disk: the `current.json` pointer of an installed service
 * (PROTOCOL.md §10.9 step 6, where symbolic links are unavailable), the operator's enabled/disabled
 * choices, and the pids of the service processes it started (to clean up after a node that was
 * killed). Parsed when read, like every other document that enters the process.
 */
import { z } from 'zod';
import { Int } from './validation.js';

/** `services/<id>/current.json`: `{"version":"1.2.0"}` (a bare JSON string is accepted too). */
export const CurrentPointerSchema = z.union([z.object({ version: z.string().min(1) }), z.string().min(1)]).transform((v) => (typeof v === 'string' ? v : v.version));

/** `<data dir>/services-state.json`: the operator's choices, which outlive the node process. */
export const ServicesStateFileSchema = z.object({
  /** Service id → enabled (absent: the service.json `enabled`, default true). */
  enabled: z.record(z.string(), z.boolean()).default({}),
});
export type ServicesStateFile = z.infer<typeof ServicesStateFileSchema>;

/** One service process as recorded at spawn: enough to recognise it after a node restart. */
export const ServiceProcessRecordSchema = z.object({
  serviceId: z.string(),
  pid: Int,
  /** Opaque start-time token of the OS (see ProcessIdentity). */
  startTime: z.string(),
  commandLine: z.string(),
});
export type ServiceProcessRecord = z.infer<typeof ServiceProcessRecordSchema>;

/** `<data dir>/run/service-processes.json`. */
export const ServiceProcessesFileSchema = z.object({
  processes: z.array(ServiceProcessRecordSchema).default([]),
});
export type ServiceProcessesFile = z.infer<typeof ServiceProcessesFileSchema>;
