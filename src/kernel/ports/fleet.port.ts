/**
 * The fleet: several scheduler instances that share one view of the nodes through a shared store
 * (Redis), so that any instance can serve any session with any node (ARCHITECTURE.md "Scale").
 *
 * - **Instances**: each has an id and a lease, renewed well inside its TTL; an instance whose lease
 *   ran out is dead for the others (its nodes are not dispatched to, its reservations lapse).
 * - **Node changes**: the owner of a node (the instance holding its socket) writes its record to the
 *   capability store; a change of status, pools or registration is announced to every instance,
 *   which keeps a summary of every remote node for dispatch.
 * - **Envelopes**: a `job_assign`/`job_cancel` for a node held elsewhere travels to its owner's
 *   inbox; the node's answers travel back to the inbox of the session's instance (its "home").
 *
 * Every method rejects only with KernelErrors (`STORE_UNAVAILABLE` while the store is unreachable).
 */
import type { NodeStatus } from '../../protocol/common.schema.js';
import type { NodeToSchedulerMessage, SchedulerToNodeMessage } from '../../protocol/index.js';
import type { NodeLoad, NodePools } from './capability-store.port.js';

/** A live scheduler instance, as its lease says. */
export interface FleetInstance {
  instanceId: string;
  /** Where its HTTP and WebSocket paths listen (`host:port`), when it said. */
  address?: string;
  /** When it joined, ms since the epoch. */
  startedAt: number;
  /** When its lease runs out, ms since the epoch (store time). */
  leaseUntil: number;
}

/** What dispatch needs to know of a node held by another instance. */
export interface RemoteNode {
  nodeId: string;
  /** The instance that holds the node's socket. */
  owner: string;
  /** Fencing token of the registration that wrote the record. */
  registrationId: string;
  status: NodeStatus;
  pools: NodePools;
  maxConcurrentJobs: number;
  load?: NodeLoad;
  lastHeartbeatAt?: number;
}

/** Node job messages that travel back to a session's instance. */
export type FleetNodeMessage = Extract<NodeToSchedulerMessage, { type: 'job_ack' | 'job_started' | 'job_result' | 'asr_partial' }>;

/** A message between instances. `from` is the sender's instance id. */
export type FleetEnvelope =
  /** For the owner of `nodeId`: send `message` on the node's socket. */
  | { kind: 'to_node'; from: string; nodeId: string; sessionId: string; message: Extract<SchedulerToNodeMessage, { type: 'job_assign' | 'job_cancel' }> }
  /** For a session's instance: a job message of `nodeId`, identity-checked by its owner. */
  | { kind: 'from_node'; from: string; nodeId: string; message: FleetNodeMessage }
  /** For a session's instance: the `job_assign` it sent could not be handed to the node. */
  | { kind: 'undeliverable'; from: string; nodeId: string; jobId: string; attemptId: number };

/** What the fleet hands to its instance. */
export interface FleetHandlers {
  /** An envelope from this instance's inbox; acknowledged once the promise settles. */
  envelope(envelope: FleetEnvelope): Promise<void> | void;
  /** Nodes whose record changed (or went away) somewhere in the fleet. */
  nodesChanged(nodeIds: string[]): void;
  /** The store became reachable (`true`: after a loss, everything must be resynchronized) or not. */
  connection(up: boolean): void;
}

export interface FleetPort {
  readonly instanceId: string;
  /** Joins: takes the lease, creates the inbox, starts reading it and the node changes. */
  start(handlers: FleetHandlers, address: string | undefined): Promise<void>;
  /** Whether the store answered last time it was asked. */
  isUp(): boolean;
  /** The live instances, sorted by id. */
  instances(signal: AbortSignal): Promise<FleetInstance[]>;
  /** Summaries of the given nodes (absent = no live record). */
  nodes(nodeIds: readonly string[], signal: AbortSignal): Promise<RemoteNode[]>;
  /** Summaries of every node with a live record. */
  allNodes(signal: AbortSignal): Promise<RemoteNode[]>;
  /** Puts `envelope` in the inbox of instance `to`. */
  send(to: string, envelope: FleetEnvelope, signal: AbortSignal): Promise<void>;
  /** Marks sessions as living on this instance (renewed with the lease until `leaveSessions`). */
  homeSessions(sessionIds: readonly string[]): void;
  leaveSessions(sessionIds: readonly string[]): void;
  /** The instance a session lives on, if any. */
  sessionHome(sessionId: string, signal: AbortSignal): Promise<string | undefined>;
  /** Leaves the fleet: drops the lease, the inbox and the session marks; closes connections. */
  close(): Promise<void>;
}
