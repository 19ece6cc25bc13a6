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

const VolatileHeartbeatSchema = NodeHeartbeatSchema.omit({ installed_services: true, capability_by_type: true, language_capabilities: true });

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
    const rest = parseWith(VolatileHeartbeatSchema, raw, 'node message', { type: raw.type });
    if (rest.ok) {
      const message: NodeHeartbeat = { ...rest.value, installed_services: previous.installed_services, capability_by_type: previous.capability_by_type };
      if (previous.language_capabilities !== undefined) message.language_capabilities = previous.language_capabilities;
      return { ok: true, value: message, dropped: rest.dropped };
    }
  }
  return parseWith(NodeHeartbeatSchema, raw, 'node message', { type: raw.type });
}
