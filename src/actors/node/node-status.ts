/**
 * What the node tells its operator (`GET /status`, `startNode().status()`, the CLI): the link's
 * state and node_id, the scheduler's view of the node, the last registration rejection with what
 * to do about it, the local services and the running jobs. Built from bus events and the registry.
 */
import type { Bus } from '../../kernel/bus.js';
import type { LinkDisconnectCause } from '../../kernel/bus-events.js';
import type { Clock } from '../../kernel/clock.js';
import type { ServiceRegistryPort } from '../../kernel/ports/service-registry.port.js';
import { wireStatusOf } from '../../kernel/ports/service-registry.port.js';
import type { NodeStatus } from '../../protocol/common.schema.js';
import type { Hardware } from '../../protocol/node-capabilities.schema.js';
import { rejectionHint } from './link.actor.js';

export interface NodeStatusReport {
  role: 'node';
  epoch: string;
  link: {
    /** `connecting` | `registering` | `registered` | `reconnecting` | `rejected` | `stopped`. */
    state: string;
    /** The scheduler of the current connection (while reconnecting: of the next attempt). */
    schedulerUrl: string;
    /** Every scheduler the node may use, in failover order. */
    schedulerUrls: string[];
    nodeId?: string;
    /** The scheduler's last `node_status` (the ack stands for `registering`). */
    schedulerStatus?: NodeStatus;
    schedulerReason?: string;
    /** The last registration rejection, kept after later successes for the record. */
    lastRejection?: { code: string; message: string; retrying: boolean; atMs: number; action: string };
    lastDisconnect?: { cause: LinkDisconnectCause; code?: number; reason?: string; atMs: number };
    /** While reconnecting: when the next attempt starts, epoch ms. */
    nextAttemptAtMs?: number;
  };
  heartbeat: { lastSeq?: number; lastTrigger?: string; lastSentAtMs?: number };
  hardware?: { platform: string } & Hardware;
  services: { id: string; type: string; state: string; status: string; device: string; version?: string; lastError?: string }[];
  runningJobs: number;
}

export interface NodeStatusTracker {
  report(): NodeStatusReport;
  dispose(): void;
}

export interface NodeStatusTrackerOptions {
  bus: Bus;
  clock: Clock;
  registry: ServiceRegistryPort;
  runningJobs: () => number;
  epoch: string;
  /** The schedulers' node link URLs in failover order (at least one). */
  schedulerUrls: readonly string[];
}

export function createNodeStatusTracker(options: NodeStatusTrackerOptions): NodeStatusTracker {
  const link: NodeStatusReport['link'] = { state: 'connecting', schedulerUrl: options.schedulerUrls[0] ?? '', schedulerUrls: [...options.schedulerUrls] };
  const heartbeat: NodeStatusReport['heartbeat'] = {};
  let hardware: NodeStatusReport['hardware'];

  const subscriptions = [
    options.bus.subscribe('link.stateChanged', (event) => {
      link.state = event.state;
      if (event.schedulerUrl !== undefined) link.schedulerUrl = event.schedulerUrl;
      if (event.nodeId !== undefined) link.nodeId = event.nodeId;
      if (event.state === 'registered') {
        link.schedulerStatus = event.schedulerStatus;
        link.schedulerReason = event.schedulerReason;
      } else {
        delete link.schedulerStatus;
        delete link.schedulerReason;
      }
      if (event.state !== 'reconnecting') delete link.nextAttemptAtMs;
    }),
    options.bus.subscribe('link.rejected', (event) => {
      link.lastRejection = { code: event.code, message: event.message, retrying: event.retrying, atMs: options.clock.now(), action: rejectionHint(event.code) };
    }),
    options.bus.subscribe('link.disconnected', (event) => {
      link.lastDisconnect = { cause: event.cause, ...(event.code !== undefined ? { code: event.code } : {}), ...(event.reason !== undefined ? { reason: event.reason } : {}), atMs: options.clock.now() };
    }),
    options.bus.subscribe('link.reconnectScheduled', (event) => {
      link.nextAttemptAtMs = options.clock.now() + event.delayMs;
    }),
    options.bus.subscribe('heartbeat.sent', (event) => {
      heartbeat.lastSeq = event.seq;
      heartbeat.lastTrigger = event.trigger;
      heartbeat.lastSentAtMs = options.clock.now();
    }),
    options.bus.subscribe('hardware.probed', (event) => {
      hardware = { platform: event.platform, ...event.hardware };
    }),
  ];

  return {
    report: () => ({
      role: 'node',
      epoch: options.epoch,
      link: structuredClone(link),
      heartbeat: { ...heartbeat },
      ...(hardware ? { hardware: structuredClone(hardware) } : {}),
      services: options.registry.list().map((s) => ({
        id: s.id,
        type: s.type,
        state: s.state,
        status: wireStatusOf(s.state),
        device: s.device,
        ...(s.version !== undefined ? { version: s.version } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
      })),
      runningJobs: options.runningJobs(),
    }),
    dispose: () => subscriptions.forEach((u) => u()),
  };
}
