/**
 * Parsing of node-link frames with a fast path for the common heartbeat: one whose capability
 * report (`installed_services`, `capability_by_type`, `language_capabilities`) is the same as the
 * node's previous one, which is nearly every heartbeat of a node whose services did not change.
 *
 * Soundness: the schemas are idempotent (parsing a parsed value gives that value back: unknown
 * members are already stripped, `null`s already absent, invalid list items already dropped). So
 * when the received parts are structurally equal to the previous *parsed* parts, parsing them would
 * give exactly those parts, and they are reused; only the rest of the heartbeat is validated. Any
 * difference (an unknown member, a `null`, a reordered list, another value) takes the full parse.
 */
import { decodeFrame, NodeHeartbeatSchema, parseNodeToScheduler, parseWith } from '../../protocol/index.js';
import type { NodeHeartbeat, NodeToSchedulerMessage, ParseResult } from '../../protocol/index.js';
import { samePlainData } from './plain-data.js';

/** The capability parts of the last fully parsed report of a node. */
export type ReportParts = Pick<NodeHeartbeat, 'installed_services' | 'capability_by_type' | 'language_capabilities'>;

export const VolatileHeartbeatSchema = NodeHeartbeatSchema.omit({ installed_services: true, capability_by_type: true, language_capabilities: true });
export type VolatileHeartbeat = Omit<NodeHeartbeat, 'installed_services' | 'capability_by_type' | 'language_capabilities'>;

/** PROTOCOL.md §0.4 `int`, as `Int` in the schemas checks it (a safe integer, not negative). */
function isInt(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * The rest of a heartbeat checked by hand, for the plain case every linguamesh node sends: numbers
 * where the schema wants numbers, no `null`, and none of the informative `installed_models`,
 * `*_metrics`. Anything else returns undefined and goes to the schema, which stays the one
 * definition of validity: this only recognizes inputs it would accept, and builds what it would
 * give (unknown members left out). A test checks the two never disagree.
 */
export function plainVolatile(raw: Record<string, unknown>): VolatileHeartbeat | undefined {
  const { node_id: nodeId, timestamp, resource_usage: usage, epoch, seq } = raw;
  if (typeof nodeId !== 'string' || !isInt(timestamp)) return undefined;
  if (raw.installed_models !== undefined || raw.rerun_metrics !== undefined || raw.asr_metrics !== undefined || raw.processing_metrics !== undefined) return undefined;
  if (epoch !== undefined && (typeof epoch !== 'string' || epoch.length < 1 || epoch.length > 64)) return undefined;
  if (seq !== undefined && !isInt(seq)) return undefined;
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return undefined;
  const u = usage as Record<string, unknown>;
  const { cpu_percent: cpu, mem_percent: mem, running_jobs: running, gpu_percent: gpu, gpu_mem_percent: gpuMem, gpu_queue_length: gpuQueue } = u;
  if (typeof cpu !== 'number' || typeof mem !== 'number' || !isInt(running)) return undefined;
  if ((gpu !== undefined && typeof gpu !== 'number') || (gpuMem !== undefined && typeof gpuMem !== 'number') || (gpuQueue !== undefined && !isInt(gpuQueue))) return undefined;
  const resourceUsage: VolatileHeartbeat['resource_usage'] = { cpu_percent: cpu, mem_percent: mem, running_jobs: running };
  if (gpu !== undefined) resourceUsage.gpu_percent = gpu;
  if (gpuMem !== undefined) resourceUsage.gpu_mem_percent = gpuMem;
  if (gpuQueue !== undefined) resourceUsage.gpu_queue_length = gpuQueue;
  const message: VolatileHeartbeat = { type: 'node_heartbeat', node_id: nodeId, timestamp, resource_usage: resourceUsage };
  if (epoch !== undefined) message.epoch = epoch;
  if (seq !== undefined) message.seq = seq;
  return message;
}

const HEARTBEAT_MARK = Buffer.from('"node_heartbeat"');

// The received parts have the depth of a JSON value, but the parsed parts they are compared with
// have the schema's: the comparison stops at the first difference, so it never goes deeper.

/**
 * Parses one frame received on `/ws/node`, like `parseNodeToScheduler`; `previous` is the last
 * fully parsed report of the node the connection speaks for, if any.
 */
export function parseNodeFrame(data: Buffer, maxFrameBytes: number, previous: ReportParts | undefined): ParseResult<NodeToSchedulerMessage> {
  if (!previous || data.byteLength > maxFrameBytes || !data.includes(HEARTBEAT_MARK)) return parseNodeToScheduler(data, maxFrameBytes);
  const frame = decodeFrame(data, maxFrameBytes);
  if (!frame.ok || frame.value.type !== 'node_heartbeat') return parseNodeToScheduler(data, maxFrameBytes);
  const raw = frame.value;
  if (
    samePlainData(raw.installed_services, previous.installed_services) &&
    samePlainData(raw.capability_by_type, previous.capability_by_type) &&
    samePlainData(raw.language_capabilities, previous.language_capabilities)
  ) {
    const plain = plainVolatile(raw);
    const rest: ParseResult<VolatileHeartbeat> = plain ? { ok: true, value: plain, dropped: [] } : parseWith(VolatileHeartbeatSchema, raw, 'node message', { type: raw.type });
    if (rest.ok) {
      // `rest.value` is a fresh object of ours: completed in place rather than copied.
      const message = rest.value as NodeHeartbeat;
      message.installed_services = previous.installed_services;
      message.capability_by_type = previous.capability_by_type;
      if (previous.language_capabilities !== undefined) message.language_capabilities = previous.language_capabilities;
      return { ok: true, value: message, dropped: rest.dropped };
    }
  }
  return parseWith(NodeHeartbeatSchema, raw, 'node message', { type: raw.type });
}
