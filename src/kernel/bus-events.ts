/**
 * Every event that travels on the in-process bus, as one discriminated union keyed by `type`
 * (dot-namespaced lowerCamel). Renaming or reshaping one breaks the build at every publisher and
 * subscriber (STYLE.md §5). There is deliberately no `error` event: failures travel as the
 * `*.failed`/`status` events of the thing that failed.
 */
import type { NodeStatus, ServiceStatus, ServiceType } from '../protocol/common.schema.js';
import type { Hardware } from '../protocol/node-capabilities.schema.js';
import type { JobAssign, JobCancel } from '../protocol/node-jobs.schema.js';
import type { NodeControl, NodeToSchedulerMessage } from '../protocol/node-link.schema.js';

/**
 * A message another part of the node asks the link to send (`link.send`): anything a node sends
 * except `node_register`, which only the link itself sends (PROTOCOL.md §3.1 step 2).
 */
export type OutboundLinkMessage = Exclude<NodeToSchedulerMessage, { type: 'node_register' }>;

/** Why the link left a connection (`link.disconnected`). */
export type LinkDisconnectCause = 'closed' | 'link_dead' | 'rejected' | 'offline' | 'registration_failed' | 'shutdown';
import type { PackagePhase } from '../protocol/package-control.schema.js';

/** Lifecycle state of a local service process (richer than the wire's ServiceStatus). */
export type ServiceLifecycleState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed' | 'backoff' | 'error';

export type BusEvent =
  // node: local services and packages (hot-plug, PROTOCOL.md §3.2)
  | { type: 'service.statusChanged'; serviceId: string; serviceType: ServiceType | string; state: ServiceLifecycleState; wireStatus: ServiceStatus; reason?: string }
  | { type: 'package.installed'; serviceId: string; version: string }
  | { type: 'package.uninstalled'; serviceId: string; version: string }
  | { type: 'package.progress'; serviceId: string; version: string; phase: PackagePhase; bytesDone: number; bytesTotal: number }
  | { type: 'package.failed'; serviceId: string; version: string; code: string; message: string }
  // node: hardware
  | { type: 'hardware.probed'; platform: string; hardware: Hardware }
  // node: link to the scheduler (published by the link actor). `state` is a LinkStateName
  // (connecting | registering | registered | reconnecting | rejected | stopped); `attempt` counts the
  // consecutive failures since the last ack (1 = first retry).
  // `schedulerUrl`: the scheduler of the current connection (or of the next attempt, while reconnecting).
  | { type: 'link.stateChanged'; state: string; nodeId?: string; schedulerStatus?: NodeStatus; schedulerReason?: string; errorCode?: string; schedulerUrl?: string }
  | { type: 'link.connected'; schedulerUrl?: string }
  | { type: 'link.registered'; nodeId: string; heartbeatIntervalMs?: number; schedulerUrl?: string }
  | { type: 'link.disconnected'; cause: LinkDisconnectCause; code?: number; reason?: string }
  // `failover`: a move to the next scheduler inside a round of URLs, not a backoff wait.
  | { type: 'link.reconnectScheduled'; attempt: number; delayMs: number; schedulerUrl?: string; failover?: boolean }
  | { type: 'link.rejected'; code: string; message: string; retrying: boolean }
  | { type: 'link.nodeError'; code: string; message: string; details?: Record<string, unknown> }
  | { type: 'link.jobAssigned'; message: JobAssign }
  | { type: 'link.jobCancelled'; message: JobCancel }
  | { type: 'link.control'; message: NodeControl }
  | { type: 'link.sendDropped'; messageType: string; reason: 'not_registered' | 'reserved' | 'socket_closed' }
  // node: requests to the link (consumed by the link actor). `link.send` is how any part of the node
  // sends to the scheduler: delivered while registered with an open socket, else `link.sendDropped`.
  | { type: 'link.send'; message: OutboundLinkMessage }
  | { type: 'link.retryRequested'; source: string }
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
  /** An attempt ended without its result: `job_cancel` sent (timeout, session closed) or its node lost. */
  | { type: 'dispatch.attemptEnded'; jobId: string; attemptId: number; nodeId: string; reason: 'job_timeout' | 'session_closed' | 'node_lost' | 'send_failed' | 'reassign_result' }
  /** A node message about a job was dropped: not current (§5.5), a repeat, or for no job known. */
  | { type: 'dispatch.dropped'; jobId: string; nodeId: string; messageType: string; attemptId?: number; reason: 'stale' | 'duplicate' | 'unknown_job' }
  /** Fleet: a node held by another scheduler instance is gone for dispatch (owner lost, moved, offline, removed). */
  | { type: 'fleet.nodeLost'; nodeId: string; why: string }
  /** Fleet: the pools of nodes held by other instances changed (waiting jobs are retried). */
  | { type: 'fleet.poolsChanged' }
  /** Fleet: the shared store became unreachable (`up` false) or reachable again. */
  | { type: 'fleet.storeChanged'; up: boolean }
  | { type: 'session.opened'; sessionId: string }
  | { type: 'session.closed'; sessionId: string; reason: string }
  // hub: a storage scan completed (`ok: false`: it failed and the previous catalogue is kept)
  | { type: 'hub.catalogueScanned'; ok: boolean; scans: number; services: number; models: number }
  // kernel: supervision
  | { type: 'supervisor.childRestarted'; supervisorId: string; childId: string; attempt: number }
  | { type: 'supervisor.escalated'; supervisorId: string; childId: string };

export type BusEventType = BusEvent['type'];
export type BusEventOf<K extends BusEventType> = Extract<BusEvent, { type: K }>;
