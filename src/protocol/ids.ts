/**
 * Identifier formats of PROTOCOL.md §1.6 and their generators. Receivers treat ids as opaque
 * strings: the patterns describe what linguamesh creates, not what it accepts (a node-provided
 * `node_id` of 1–128 characters is accepted verbatim).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';

/** `node-` + 8 upper-case hex digits, e.g. `node-3F2A9C1B` (created by the scheduler). */
export const NODE_ID_PATTERN = /^node-[0-9A-F]{8}$/;
/** `s-` + 8 upper-case hex digits (created by the scheduler). */
export const SESSION_ID_PATTERN = /^s-[0-9A-F]{8}$/;
/** Lower-case UUIDv4 (`trace_id`, `turn_id`; recommended for `epoch`). */
export const UUID_V4_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** `job-` + lower-case UUIDv4 (created by the scheduler). */
export const JOB_ID_PATTERN = /^job-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** A service id, in `service.json` and in hub paths (PROTOCOL.md §9.7, §10.1). */
export const SERVICE_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A `node_id` a node may propose in `node_register`: any string of 1–128 characters (§1.6). */
export const NodeIdSchema = z.string().min(1).max(128);
/** A node process epoch: an opaque string of 1–64 characters (§1.6, §3.2). */
export const EpochSchema = z.string().min(1).max(64);
/** A `service.json` id (§9.7). */
export const ServiceIdSchema = z.string().regex(SERVICE_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9._-]{0,63}$');

/** Source of random bytes; tests may pass a deterministic one. */
export type RandomBytes = (size: number) => Uint8Array;

function hex8(random: RandomBytes): string {
  return Buffer.from(random(4)).toString('hex').toUpperCase();
}

/** A fresh scheduler-assigned `node_id`. */
export function newNodeId(random: RandomBytes = randomBytes): string {
  return `node-${hex8(random)}`;
}

/** A fresh `session_id`. */
export function newSessionId(random: RandomBytes = randomBytes): string {
  return `s-${hex8(random)}`;
}

/** A fresh `job_id`. */
export function newJobId(): string {
  return `job-${randomUUID()}`;
}

/** A fresh UUIDv4 for `trace_id`, `turn_id` or a node `epoch`. */
export function newUuid(): string {
  return randomUUID();
}
