/**
 * The registration checks of PROTOCOL.md §4.1, in their order, after message validity (which the
 * frame parser decides): capability schema version, GPU, identity of a re-registration, conflict
 * with another live connection. The first failure is the answer.
 */
import { CAPABILITY_SCHEMA_VERSION } from '../../protocol/node-link.schema.js';
import type { NodeRegister } from '../../protocol/node-link.schema.js';

export type RegistrationVerdict =
  /** `nodeId` undefined: assign a fresh one. */
  | { ok: true; nodeId: string | undefined }
  | { ok: false; code: 'INVALID_CAPABILITY_SCHEMA' | 'NO_GPU_AVAILABLE' | 'NODE_ID_CONFLICT' | 'INVALID_MESSAGE'; message: string; details?: Record<string, unknown> };

export interface RegistrationContext {
  allowCpuNodes: boolean;
  /** The id this connection is registered as, if it is. */
  boundNodeId: string | undefined;
  /** Whether `nodeId` is held by a live connection other than this one (open, node not offline). */
  heldElsewhere(nodeId: string): boolean;
}

export function checkRegistration(message: NodeRegister, context: RegistrationContext): RegistrationVerdict {
  const version = message.capability_schema_version;
  if (version !== undefined && version !== CAPABILITY_SCHEMA_VERSION) {
    return {
      ok: false,
      code: 'INVALID_CAPABILITY_SCHEMA',
      message: `Registration refused: capability_schema_version must be "${CAPABILITY_SCHEMA_VERSION}"`,
      details: { capability_schema_version: version.slice(0, 64) },
    };
  }
  // "After item validation": invalid GPU items were already dropped by the parser (§1.5).
  if ((message.hardware.gpus ?? []).length === 0 && !context.allowCpuNodes) {
    return { ok: false, code: 'NO_GPU_AVAILABLE', message: 'Registration refused: no GPU reported' };
  }
  if (context.boundNodeId !== undefined) {
    // §4.1: a second node_register on a registered connection re-registers the same node only.
    if (message.node_id !== undefined && message.node_id !== context.boundNodeId) {
      return {
        ok: false,
        code: 'INVALID_MESSAGE',
        message: `Invalid node message: this connection is registered as ${context.boundNodeId}`,
        details: { type: 'node_register', reason: 'NODE_ID_MISMATCH' },
      };
    }
    return { ok: true, nodeId: context.boundNodeId };
  }
  if (message.node_id !== undefined && context.heldElsewhere(message.node_id)) {
    return { ok: false, code: 'NODE_ID_CONFLICT', message: `Registration refused: ${message.node_id} is held by another live connection` };
  }
  return { ok: true, nodeId: message.node_id };
}
