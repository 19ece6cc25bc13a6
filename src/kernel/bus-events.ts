/**
 * Every event that travels on the in-process bus, as one discriminated union keyed by `type`
 * (dot-namespaced lowerCamel). Renaming or reshaping one breaks the build at every publisher and
 * subscriber (STYLE.md §5). There is deliberately no `error` event: failures travel as the
 * `*.failed`/`status` events of the thing that failed.
 */
import type { NodeStatus, ServiceStatus, ServiceType } from '../protocol/common.schema.js';

/** Lifecycle state of a local service process (richer than the wire's ServiceStatus). */
export type ServiceLifecycleState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed' | 'backoff' | 'error';

export type BusEvent =
  // node: local services and packages (hot-plug, PROTOCOL.md §3.2)
  | { type: 'service.statusChanged'; serviceId: string; serviceType: ServiceType | string; state: ServiceLifecycleState; wireStatus: ServiceStatus; reason?: string }
  | { type: 'package.installed'; serviceId: string; version: string }
  | { type: 'package.uninstalled'; serviceId: string; version: string }
  | { type: 'package.progress'; serviceId: string; version: string; phase: 'download' | 'verify' | 'unpack' | 'switch' | 'start'; bytesDone: number; bytesTotal: number }
  | { type: 'package.failed'; serviceId: string; version: string; code: string; message: string }
  // node: link to the scheduler
  | { type: 'link.stateChanged'; state: string; nodeId?: string; schedulerStatus?: NodeStatus; errorCode?: string }
  | { type: 'link.registered'; nodeId: string }
  | { type: 'link.rejected'; code: string; message: string; retrying: boolean }
  | { type: 'heartbeat.sent'; seq: number; trigger: 'ack' | 'periodic' | 'debounced' }
  // node: jobs
  | { type: 'job.assigned'; jobId: string; attemptId: number }
  | { type: 'job.finished'; jobId: string; attemptId: number; success: boolean; code?: string; totalMs: number }
  // scheduler: registry, pools, dispatch, sessions
  | { type: 'node.registered'; nodeId: string }
  | { type: 'node.statusChanged'; nodeId: string; from: NodeStatus | 'none'; to: NodeStatus; reason: string }
  | { type: 'node.capabilitiesChanged'; nodeId: string }
  /** `pools`: the node's pools for speech jobs (`use_tts` true); `textPools`: for `use_tts` false jobs (§5.2). */
  | { type: 'pool.membershipChanged'; nodeId: string; pools: string[]; textPools?: string[] }
  /** A node re-registered with another process epoch: its in-flight jobs are to be reassigned (§4.1, §5.4). */
  | { type: 'node.epochChanged'; nodeId: string; previousEpoch: string | undefined; epoch: string | undefined }
  /** An offline node's record was dropped after its retention time; it is unknown from now on. */
  | { type: 'node.removed'; nodeId: string }
  | { type: 'dispatch.assigned'; jobId: string; attemptId: number; nodeId: string; sessionId: string }
  | { type: 'dispatch.resolved'; jobId: string; sessionId: string; outcome: 'result' | 'failed' | 'missing'; code?: string }
  | { type: 'session.opened'; sessionId: string }
  | { type: 'session.closed'; sessionId: string; reason: string }
  // kernel: supervision
  | { type: 'supervisor.childRestarted'; supervisorId: string; childId: string; attempt: number }
  | { type: 'supervisor.escalated'; supervisorId: string; childId: string };

export type BusEventType = BusEvent['type'];
export type BusEventOf<K extends BusEventType> = Extract<BusEvent, { type: K }>;
