/**
 * The scheduler's node registry (PROTOCOL.md §4, §5.1–§5.2): it serves `/ws/node`, binds each
 * connection to the node it registered (§4.2), runs one status machine per node (`node:<id>`) under
 * the `registry` supervisor, keeps capabilities, load and pool membership, and writes them
 * through to the capability store. It is also what a dispatcher reads: ready members of a pool,
 * each node's load, and a send function per node; changes are published on the bus.
 *
 * Ordering: the WebSocket adapter hands a connection's frames over one at a time, and each handler
 * resolves only once its store writes are done, so the effects of a frame (registration, new
 * capabilities, pools) are in place before the next frame of that connection is read (§1.3, §5.1).
 * Local state changes synchronously; store writes are issued in the order of those changes.
 */
import type { Bus } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import type { Logger } from '../../kernel/logger.js';
import type { CapabilityStorePort, StoredNode, StoredNodePatch } from '../../kernel/ports/capability-store.port.js';
import type { LinkConnection, LinkHandler } from '../../kernel/ports/link.port.js';
import type { SchedulerMetricsPort } from '../../kernel/ports/scheduler-metrics.port.js';
import { REGISTERED_REASON } from '../../machines/node-status.machine.js';
import type { NodeStatusEmitted, NodeStatusOptions } from '../../machines/node-status.machine.js';
import { DEFAULT_MAX_CONCURRENT_JOBS, encodeFrame, newNodeId, NODE_STATUSES } from '../../protocol/index.js';
import type { DroppedItem, NodeHeartbeat, NodeRegister, NodeStatus, NodeToSchedulerMessage, SchedulerToNodeMessage } from '../../protocol/index.js';
import { parseNodeFrame } from './heartbeat-parse.js';
import type { ReportParts } from './heartbeat-parse.js';
import { capabilitiesFromReport, sameCapabilities } from './node-capabilities.js';
import { isHealthyHeartbeat, isStaleHeartbeat } from './node-health.js';
import { NodeMachines } from './node-machines.js';
import type { NodeMachineOwner } from './node-machines.js';
import { loadOf, NodeEntry, toNodeView } from './node-entry.js';
import type { NodeView } from './node-entry.js';
import { PoolIndex } from './pool-index.js';
import { nodePools, NO_POOLS, poolKeyOf, qualifies, samePools, variantOf } from './pool-membership.js';
import type { PoolQuery } from './pool-membership.js';
import { checkRegistration } from './registration-rules.js';
import type { SchedulerConfig } from './scheduler-options.js';
import { StoreWriter } from './store-writer.js';
import { ValueInterner } from './value-interning.js';

export type { NodeView } from './node-entry.js';

/** Messages about jobs, handed to the dispatcher once their sender's identity was checked (§4.2). */
export type NodeJobMessage = Extract<NodeToSchedulerMessage, { type: 'job_ack' | 'job_started' | 'job_result' | 'asr_partial' }>;

export interface NodeRegistryDeps {
  config: SchedulerConfig;
  store: CapabilityStorePort;
  metrics: SchedulerMetricsPort;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /** This scheduler instance's id: the owner of the store records it writes. */
  instanceId: string;
  /** Aborted when the scheduler stops; passed to store calls. */
  signal: AbortSignal;
  /** Called after each node-link frame with its type and handling time in ms (tracing, benchmarks). */
  observeFrame?: (type: string, ms: number) => void;
}

interface ConnectionState {
  conn: LinkConnection;
  /** The node this connection registered, while that registration is the node's current one. */
  nodeId: string | undefined;
}

export class NodeRegistry {
  readonly linkHandler: LinkHandler;
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly connections = new Map<string, ConnectionState>();
  private readonly pools = new PoolIndex();
  private readonly log: Logger;
  private readonly writer: StoreWriter;
  private readonly machines: NodeMachines;
  /** Reports, capabilities, hardware and pools that nodes have alike, shared between them. */
  private readonly shared = new ValueInterner();
  private jobSink: ((nodeId: string, message: NodeJobMessage) => void) | undefined;
  private registrationSeq = 0;
  private stopping = false;

  constructor(private readonly deps: NodeRegistryDeps) {
    this.log = deps.logger.child({ actor: 'registry' });
    this.writer = new StoreWriter(deps.metrics, this.log, deps.signal);
    const c = deps.config;
    const machineOptions: NodeStatusOptions = {
      healthCheckCount: c.healthCheckCount,
      failureWindow: c.failureWindow,
      failureCount: c.failureCount,
      consecutiveFailures: c.consecutiveFailures,
      warmupTimeoutMs: c.warmupTimeoutMs,
      heartbeatTimeoutMs: c.heartbeatTimeoutMs,
      offlineRetentionMs: c.offlineRetentionMs,
    };
    this.machines = new NodeMachines(this.machineOwner, machineOptions, this.log);
    deps.metrics.setGaugeSource(() => ({
      nodesByStatus: this.countByStatus(),
      poolSizes: { speech: this.pools.sizes('speech'), text: this.pools.sizes('text') },
    }));
    this.linkHandler = {
      opened: (conn) => {
        this.connections.set(conn.id, { conn, nodeId: undefined });
      },
      frame: (conn, data) => this.handleFrame(conn, data),
      closed: (conn, code) => this.handleClose(conn, code),
    };
  }

  // ---- wiring -------------------------------------------------------------------------------

  /** The child spec of the `registry` supervisor, parent of the node machines. */
  supervisorSpec(clock: Pick<Clock, 'now'>): ChildSpecInput {
    return this.machines.supervisorSpec(clock);
  }

  /** Where identity-checked job messages go (the dispatcher of a later issue). */
  onJobMessage(sink: (nodeId: string, message: NodeJobMessage) => void): void {
    this.jobSink = sink;
  }

  // ---- views for the API and a dispatcher ---------------------------------------------------

  node(nodeId: string): NodeView | undefined {
    const entry = this.nodes.get(nodeId);
    return entry ? toNodeView(entry) : undefined;
  }

  list(): NodeView[] {
    return [...this.nodes.values()].map(toNodeView).sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  /** Ready nodes eligible for a job (§5.2), sorted by node id; a two-way query needs both directions. */
  eligibleNodes(query: PoolQuery): string[] {
    if (query.mode === 'two_way') {
      const back = new Set(this.eligibleNodes({ mode: 'one_way', src: query.langB, tgt: query.langA, pipeline: query.pipeline }));
      return this.eligibleNodes({ mode: 'one_way', src: query.langA, tgt: query.langB, pipeline: query.pipeline }).filter((id) => back.has(id));
    }
    const variant = variantOf(query.pipeline);
    const key = poolKeyOf(query.src, query.tgt);
    if (variant !== undefined && key !== undefined) return this.pools.membersOf(variant, key);
    const allowCpu = this.deps.config.allowCpuNodes;
    return this.list()
      .filter((n) => qualifies(n.status, n.capabilities, query.src, query.tgt, query.pipeline, allowCpu))
      .map((n) => n.nodeId);
  }

  /** Sends a message on the node's current connection; false when it has none open. */
  sendToNode(nodeId: string, message: SchedulerToNodeMessage): boolean {
    const conn = this.nodes.get(nodeId)?.conn;
    return conn !== undefined && conn.send(toFrame(message));
  }

  /** Operator drain (§4.4); false when the node is unknown. */
  drain(nodeId: string, cancel: boolean): boolean {
    const entry = this.nodes.get(nodeId);
    if (!entry?.ref) return false;
    entry.ref.send({ type: cancel ? 'node.drainCancelled' : 'node.drainRequested' });
    return true;
  }

  /**
   * The backstop scan (§4.5): a machine whose warm-up or liveness time has passed is asked to check
   * its timers against the clock. Only those: asking every machine would stall the event loop for
   * as long as 10 000 transitions take.
   */
  scan(): void {
    const at = this.deps.clock.now();
    const { heartbeatTimeoutMs, warmupTimeoutMs } = this.deps.config;
    for (const entry of this.nodes.values()) {
      if (entry.status === 'offline' || !entry.ref) continue;
      const silentFor = at - (entry.lastHeartbeatAt ?? entry.registeredAt);
      const warmingFor = entry.status === 'registering' ? at - entry.registeredAt : 0;
      if (silentFor >= heartbeatTimeoutMs || warmingFor >= warmupTimeoutMs) entry.ref.send({ type: 'node.scan', at });
    }
  }

  /**
   * From now on frames and closes are ignored: the scheduler is stopping. Every machine drops its
   * timers first: XState, stopping an actor, walks every timer of the whole actor system, so with
   * 10 000 machines each still holding timers the stops would take time quadratic in the fleet.
   */
  beginShutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const entry of this.nodes.values()) entry.ref?.send({ type: 'node.quiesce' });
  }

  /** Removes this instance's records from the store. */
  async close(): Promise<void> {
    this.stopping = true;
    await this.writer.flush();
    try {
      await this.deps.store.removeOwnedBy(this.deps.instanceId, this.deps.signal);
    } catch (err) {
      this.log.warn({ err }, 'could not remove this instance\'s node records from the store');
    }
  }

  // ---- frames -------------------------------------------------------------------------------

  /**
   * One frame, in arrival order. Returns the promise of the frame's store writes when there are
   * any: the adapter hands over the next frame only once it settles (§1.3, §5.1).
   */
  private handleFrame(conn: LinkConnection, data: Buffer): Promise<void> | undefined {
    if (this.stopping) return undefined;
    const started = this.deps.observeFrame ? performance.now() : 0;
    const parsed = parseNodeFrame(data, this.deps.config.maxFrameBytes, this.boundReport(conn));
    let type = 'invalid';
    let pending: Promise<void> | undefined;
    if (!parsed.ok) {
      const receivedType = typeof parsed.error.details.type === 'string' ? parsed.error.details.type : undefined;
      if (receivedType === 'node_heartbeat') this.countHeartbeat('received', 'invalid');
      this.log.debug({ conn: conn.id, type: receivedType, bytes: data.byteLength, reason: parsed.error.reason }, 'invalid node message');
      this.reply(conn, 'INVALID_MESSAGE', `Invalid message format: ${parsed.error.reason}`, { ...(receivedType ? { type: receivedType } : {}), reason: parsed.error.reason });
    } else {
      const message = parsed.value;
      type = message.type;
      switch (message.type) {
        case 'node_register':
          pending = this.register(conn, message, parsed.dropped);
          break;
        case 'node_heartbeat':
          pending = this.heartbeat(conn, message, parsed.dropped);
          break;
        case 'job_ack':
        case 'job_started':
        case 'job_result':
        case 'asr_partial':
          this.jobMessage(conn, message);
          break;
        case 'node_error':
          // N→S node_error is informational (§2); never answered, so two peers cannot ping-pong errors.
          this.log.warn({ conn: conn.id, nodeId: message.node_id, code: message.code }, 'node reported an error');
          break;
        default: {
          const never: never = message;
          return never;
        }
      }
    }
    const observe = this.deps.observeFrame;
    if (observe) {
      if (!pending) observe(type, performance.now() - started);
      else pending = pending.then(() => observe(type, performance.now() - started));
    }
    return pending;
  }

  private reply(conn: LinkConnection, code: string, message: string, details?: Record<string, unknown>, nodeId?: string): void {
    conn.send(toFrame({ type: 'node_error', ...(nodeId ? { node_id: nodeId } : {}), code, message, ...(details ? { details } : {}) }));
  }

  /** The last parsed report of the node this connection speaks for (the fast path of parsing). */
  private boundReport(conn: LinkConnection): ReportParts | undefined {
    const nodeId = this.connections.get(conn.id)?.nodeId;
    return nodeId === undefined ? undefined : this.nodes.get(nodeId)?.lastReport;
  }

  /** The node a message's sender may speak for (§4.2), or undefined after answering the refusal. */
  private boundEntry(conn: LinkConnection, type: string, claimedId: string): NodeEntry | undefined {
    const state = this.connections.get(conn.id);
    const entry = state?.nodeId !== undefined ? this.nodes.get(state.nodeId) : undefined;
    if (!entry || entry.conn !== conn) {
      this.reply(conn, 'INVALID_MESSAGE', 'Invalid message format: connection is not registered', { type, reason: 'NOT_REGISTERED' });
      return undefined;
    }
    if (claimedId !== entry.nodeId) {
      this.reply(conn, 'INVALID_MESSAGE', `Invalid message format: node_id does not match this connection's node`, { type, reason: 'NODE_ID_MISMATCH' }, entry.nodeId);
      return undefined;
    }
    return entry;
  }

  // ---- registration (§4.1) ------------------------------------------------------------------

  private async register(conn: LinkConnection, message: NodeRegister, dropped: DroppedItem[]): Promise<void> {
    const state = this.connections.get(conn.id);
    if (!state) return;
    const verdict = checkRegistration(message, {
      allowCpuNodes: this.deps.config.allowCpuNodes,
      boundNodeId: state.nodeId,
      heldElsewhere: (nodeId) => {
        const holder = this.nodes.get(nodeId);
        // §4.1: live = open and not offline. The socket's own state decides, not whether its close
        // was handled yet (§12 item 10).
        return holder?.conn !== undefined && holder.conn !== conn && holder.conn.isOpen() && holder.status !== 'offline';
      },
    });
    if (!verdict.ok) {
      this.deps.metrics.registration('rejected', verdict.code);
      this.log.warn({ conn: conn.id, code: verdict.code, nodeId: message.node_id }, 'registration refused');
      this.reply(conn, verdict.code, verdict.message, verdict.details, state.nodeId);
      return;
    }
    let nodeId = verdict.nodeId;
    while (nodeId === undefined || (verdict.nodeId === undefined && this.nodes.has(nodeId))) nodeId = newNodeId();
    const now = this.deps.clock.now();
    const existing = this.nodes.get(nodeId);
    const previousEpoch = existing?.epoch;
    const report = this.shared.intern<ReportParts>({ installed_services: message.installed_services ?? [], capability_by_type: message.capability_by_type, language_capabilities: message.language_capabilities });
    const caps = this.shared.intern(capabilitiesFromReport(report));
    const entry = existing ?? new NodeEntry(nodeId);
    const previousConn = entry.conn;
    entry.reset({
      conn,
      registrationId: `${this.deps.instanceId}/${++this.registrationSeq}`,
      epoch: message.epoch,
      version: message.version,
      platform: message.platform,
      hardware: this.shared.intern(message.hardware),
      maxConcurrentJobs: message.max_concurrent_jobs ?? DEFAULT_MAX_CONCURRENT_JOBS,
      caps,
      registeredAt: now,
    });
    entry.lastReport = report;
    this.warnDropped(entry, dropped);
    this.bind(conn, entry, previousConn);
    this.nodes.set(nodeId, entry);
    // Written as the machine is about to make it: registering, in no pool (§4.1 step 5).
    const stored = this.writer.issue(this.deps.store.put({ ...this.storedRecord(entry), status: 'registering', reason: REGISTERED_REASON, pools: NO_POOLS }, this.deps.signal));
    if (entry.ref) entry.ref.send({ type: 'node.reregistered', at: now });
    else this.machines.spawn(nodeId, now);
    await stored;
    if (this.stopping) return;
    this.deps.metrics.registration('accepted');
    this.log.info({ nodeId, conn: conn.id, reregistration: existing !== undefined, epoch: message.epoch }, 'node registered');
    this.deps.bus.publish({ type: 'node.registered', nodeId });
    if (existing && previousEpoch !== message.epoch) {
      this.deps.bus.publish({ type: 'node.epochChanged', nodeId, previousEpoch, epoch: message.epoch });
    }
    conn.send(toFrame({ type: 'node_register_ack', node_id: nodeId, message: 'Node registered successfully', status: 'registering', heartbeat_interval_ms: this.deps.config.heartbeatIntervalMs }));
  }

  /**
   * Binds `conn` to the node, unbinding the node's previous connection: a node is bound to at most
   * one connection, the one of its current registration (so that one lookup finds it).
   */
  private bind(conn: LinkConnection, entry: NodeEntry, previous: LinkConnection | undefined): void {
    if (previous && previous !== conn) this.unbind(previous, entry.nodeId);
    const state = this.connections.get(conn.id);
    if (state) state.nodeId = entry.nodeId;
  }

  /** §4.2: an older connection of a node no longer speaks for it, and its close changes nothing. */
  private unbind(conn: LinkConnection, nodeId: string): void {
    const state = this.connections.get(conn.id);
    if (state?.nodeId === nodeId) state.nodeId = undefined;
  }

  private readonly machineOwner: NodeMachineOwner = {
    attached: (nodeId, ref) => {
      const entry = this.nodes.get(nodeId);
      if (!entry) return false;
      entry.ref = ref;
      return true;
    },
    emitted: (event, ref) => {
      const entry = this.nodes.get(event.nodeId);
      if (!entry?.ref || entry.ref !== ref) return;
      switch (event.type) {
        case 'node.statusChanged':
          this.safely(() => this.statusChanged(entry, event));
          break;
        case 'node.expired':
          if (entry.status === 'offline') this.safely(() => this.forget(entry));
          break;
        default: {
          const never: never = event;
          return never;
        }
      }
    },
    lost: (nodeId) => {
      const entry = this.nodes.get(nodeId);
      if (!entry) return;
      entry.ref = undefined;
      if (entry.conn?.isOpen()) entry.conn.close(1011, 'internal_error');
      this.forget(entry);
    },
  };

  // ---- heartbeats (§4.3, §5.1) --------------------------------------------------------------

  private heartbeat(conn: LinkConnection, message: NodeHeartbeat, dropped: DroppedItem[]): Promise<void> | undefined {
    this.deps.metrics.heartbeat('received');
    const entry = this.boundEntry(conn, message.type, message.node_id);
    if (!entry) {
      this.deps.metrics.heartbeat('invalid');
      return;
    }
    if (entry.status === 'offline' || !entry.ref) {
      this.deps.metrics.heartbeat('ignored');
      return;
    }
    if (isStaleHeartbeat(entry.epoch, entry.lastSeq, message.epoch, message.seq)) {
      this.deps.metrics.heartbeat('stale');
      return;
    }
    this.deps.metrics.heartbeat('accepted');
    if (message.epoch !== undefined && message.seq !== undefined) {
      if (entry.lastSeq?.epoch === message.epoch) entry.lastSeq.seq = message.seq;
      // The registration's copy of the epoch string when it is the same, rather than a second one.
      else entry.lastSeq = { epoch: message.epoch === entry.epoch ? entry.epoch : message.epoch, seq: message.seq };
    }
    this.warnDropped(entry, dropped);
    const now = this.deps.clock.now();
    // The parser hands back the previous report's objects when nothing in it changed.
    const last = entry.lastReport;
    const sameReport =
      last !== undefined &&
      message.installed_services === last.installed_services &&
      message.capability_by_type === last.capability_by_type &&
      message.language_capabilities === last.language_capabilities;
    let capsChanged = false;
    if (!sameReport) {
      entry.lastReport = this.shared.intern<ReportParts>({ installed_services: message.installed_services, capability_by_type: message.capability_by_type, language_capabilities: message.language_capabilities });
      const caps = this.shared.intern(capabilitiesFromReport(entry.lastReport, entry.caps));
      capsChanged = caps !== entry.caps && !sameCapabilities(caps, entry.caps);
      if (capsChanged) entry.caps = caps;
    }
    entry.load = loadOf(message.resource_usage);
    entry.lastHeartbeatAt = now;
    const healthy = isHealthyHeartbeat(entry.hasGpu, entry.caps, message.resource_usage, this.deps.config);
    const before = { status: entry.status, reason: entry.reason, pools: entry.pools };
    // Status changes made by this heartbeat are written with it, in one update.
    entry.batching = true;
    try {
      entry.ref.send({ type: 'node.heartbeat', healthy, at: now });
      if (capsChanged) {
        this.refreshPools(entry);
        this.deps.bus.publish({ type: 'node.capabilitiesChanged', nodeId: entry.nodeId });
      }
    } finally {
      entry.batching = false;
    }
    // Status, reason and pools only when they changed: a fleet announces those changes to every instance.
    const patch: StoredNodePatch = { load: entry.load, lastHeartbeatAt: now };
    if (entry.status !== before.status || entry.reason !== before.reason || entry.pools !== before.pools) Object.assign(patch, { status: entry.status, reason: entry.reason, pools: entry.pools });
    if (capsChanged) patch.capabilities = entry.caps;
    return this.writer.issue(this.updateStore(entry, patch));
  }

  private jobMessage(conn: LinkConnection, message: NodeJobMessage): void {
    const entry = this.boundEntry(conn, message.type, message.node_id);
    if (!entry) return;
    if (this.jobSink) this.jobSink(entry.nodeId, message);
    else this.log.debug({ nodeId: entry.nodeId, type: message.type }, 'job message with no dispatcher to take it');
  }

  // ---- status, pools, removal ---------------------------------------------------------------

  private statusChanged(entry: NodeEntry, event: Extract<NodeStatusEmitted, { type: 'node.statusChanged' }>): void {
    entry.status = event.to;
    entry.reason = event.reason;
    this.log.info({ nodeId: entry.nodeId, from: event.from, to: event.to, reason: event.reason }, 'node status changed');
    this.deps.metrics.statusTransition(event.from, event.to, event.reason);
    const conn = entry.conn;
    // The ack stands for `registering` (§2.6); every other transition is announced on the link.
    if (event.to !== 'registering' && conn?.isOpen()) {
      conn.send(toFrame({ type: 'node_status', node_id: entry.nodeId, status: event.to, reason: event.reason, timestamp: this.deps.clock.now() }));
      if (event.to === 'draining') conn.send(toFrame({ type: 'node_control', command: 'drain', reason: 'drain_requested' }));
    }
    this.refreshPools(entry);
    if (event.to !== 'registering' && !entry.batching) {
      this.writer.issue(this.updateStore(entry, { status: entry.status, reason: entry.reason, pools: entry.pools }));
    }
    this.deps.bus.publish({ type: 'node.statusChanged', nodeId: entry.nodeId, from: event.from, to: event.to, reason: event.reason });
    if (event.to === 'offline' && event.reason === 'heartbeat_timeout' && conn?.isOpen()) {
      // §4.4: close so that any node, a Lingua node included, reconnects and registers again.
      conn.close(4000, 'heartbeat_timeout');
    }
  }

  /** Recomputes the node's pools (§5.1: on every capability change and status transition). */
  private refreshPools(entry: NodeEntry): void {
    const next = nodePools(entry.status, entry.caps, this.deps.config.allowCpuNodes);
    if (samePools(next, entry.pools)) return;
    entry.pools = next === NO_POOLS ? next : this.shared.intern(next);
    this.pools.set(entry.nodeId, entry.pools);
    this.deps.bus.publish({ type: 'pool.membershipChanged', nodeId: entry.nodeId, pools: entry.pools.speech, textPools: entry.pools.text });
  }

  private forget(entry: NodeEntry): void {
    if (this.nodes.get(entry.nodeId) !== entry) return;
    this.nodes.delete(entry.nodeId);
    if (entry.conn) this.unbind(entry.conn, entry.nodeId);
    if (entry.pools !== NO_POOLS) this.pools.remove(entry.nodeId);
    this.writer.issue(this.deps.store.remove(entry.nodeId, entry.registrationId, this.deps.signal));
    if (entry.ref) this.machines.terminate(entry.nodeId);
    entry.ref = undefined;
    this.log.info({ nodeId: entry.nodeId }, 'node forgotten');
    this.deps.bus.publish({ type: 'node.removed', nodeId: entry.nodeId });
  }

  private handleClose(conn: LinkConnection, code: number): void {
    const state = this.connections.get(conn.id);
    this.connections.delete(conn.id);
    if (this.stopping || state?.nodeId === undefined) return;
    const entry = this.nodes.get(state.nodeId);
    // §4.2: only the close of the connection that made the current registration changes the node.
    if (!entry || entry.conn !== conn) return;
    this.log.info({ nodeId: entry.nodeId, conn: conn.id, code }, 'node connection closed');
    entry.conn = undefined;
    entry.ref?.send({ type: 'node.connectionClosed' });
  }

  // ---- the store as a fleet shares it --------------------------------------------------------

  /**
   * Writes every node this instance holds again, whole (after the shared store lost its records:
   * a restarted Redis). Resolves once the writes settled.
   */
  async resyncStore(): Promise<void> {
    if (this.stopping) return;
    const writes = [...this.nodes.values()].filter((e) => e.ref).map((entry) => this.writer.issue(this.deps.store.put(this.fullRecord(entry), this.deps.signal)));
    await Promise.all(writes);
  }

  /** A fenced update; when the store refused it, finds out why (record lost, or node owned elsewhere). */
  private async updateStore(entry: NodeEntry, patch: StoredNodePatch): Promise<void> {
    const registrationId = entry.registrationId;
    if (await this.deps.store.update(entry.nodeId, registrationId, patch, this.deps.signal)) return;
    const record = await this.deps.store.get(entry.nodeId, this.deps.signal);
    if (this.stopping || this.nodes.get(entry.nodeId) !== entry || entry.registrationId !== registrationId) return;
    if (record === undefined) {
      // The record was lost (the store restarted, or expired while unreachable): written again.
      await this.deps.store.put(this.fullRecord(entry), this.deps.signal);
      return;
    }
    if (record.registrationId === registrationId) return;
    // Fencing: the node registered again elsewhere, later; this instance lets go of it.
    this.log.warn({ nodeId: entry.nodeId, owner: record.owner }, 'node now held by another scheduler instance; letting go of it');
    const conn = entry.conn;
    this.forget(entry);
    if (conn?.isOpen()) conn.close(4001, 'owned_elsewhere');
  }

  private fullRecord(entry: NodeEntry): StoredNode {
    return { ...this.storedRecord(entry), ...(entry.load ? { load: entry.load } : {}), ...(entry.lastHeartbeatAt !== undefined ? { lastHeartbeatAt: entry.lastHeartbeatAt } : {}) };
  }

  // ---- small pieces -------------------------------------------------------------------------

  private storedRecord(entry: NodeEntry): StoredNode {
    return {
      nodeId: entry.nodeId,
      owner: this.deps.instanceId,
      registrationId: entry.registrationId,
      ...(entry.epoch !== undefined ? { epoch: entry.epoch } : {}),
      version: entry.version,
      platform: entry.platform,
      hardware: entry.hardware,
      maxConcurrentJobs: entry.maxConcurrentJobs,
      status: entry.status,
      reason: entry.reason,
      capabilities: entry.caps,
      pools: entry.pools,
      registeredAt: entry.registeredAt,
    };
  }

  private warnDropped(entry: NodeEntry, dropped: DroppedItem[]): void {
    for (const item of dropped) {
      if (entry.noteProblem(`${item.path.replace(/\[\d+\]/g, '[]')} ${item.reason}`)) {
        this.log.warn({ nodeId: entry.nodeId, path: item.path, reason: item.reason }, 'invalid list item removed from a node report');
      }
    }
  }

  private countHeartbeat(...outcomes: Parameters<SchedulerMetricsPort['heartbeat']>[0][]): void {
    for (const outcome of outcomes) this.deps.metrics.heartbeat(outcome);
  }

  private countByStatus(): Record<NodeStatus, number> {
    const counts = Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>;
    for (const entry of this.nodes.values()) counts[entry.status]++;
    return counts;
  }

  /** Runs a handler called from inside an actor: an exception there would crash the process. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'node registry handler failed');
    }
  }
}

/** One message of the node link as a text frame (optional fields omitted, §1.4). */
function toFrame(message: SchedulerToNodeMessage): string {
  return encodeFrame(message);
}
