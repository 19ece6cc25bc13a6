/**
 * Dispatch across scheduler instances (issue "Scheduler scale-out", point 3): what the dispatcher
 * sees as its registry when the scheduler is part of a fleet, and the routing of job messages
 * between instances.
 *
 * - **Candidates**: this instance's own nodes, then the ready nodes other instances hold
 *   (`FleetView`). Slots are taken in the shared reservations store either way.
 * - **Sending** to a node held elsewhere puts the message in its owner's inbox; the owner hands it
 *   to the node (`to_node`) and, when it cannot, answers `undeliverable`, which ends the attempt
 *   like a failed send (reassignment with the next attempt id).
 * - **Answers**: a job message of a node held here whose session lives on another instance goes to
 *   that instance's inbox (`from_node`), found from the assignments this instance delivered or from
 *   the session's home in the store. The session's dispatcher checks it like any node message, so a
 *   late result of a stale attempt is dropped there.
 */
import type { Logger } from '../../kernel/logger.js';
import type { FleetEnvelope, FleetNodeMessage, FleetPort } from '../../kernel/ports/fleet.port.js';
import type { SchedulerToNodeMessage } from '../../protocol/index.js';
import type { DispatchRegistry, Dispatcher } from './dispatcher.js';
import type { FleetView } from './fleet-view.js';
import type { NodeRegistry, NodeView } from './node-registry.js';
import type { PoolQuery } from './pool-membership.js';

/** Sessions remembered per origin (oldest first out). */
const MAX_ORIGINS = 100_000;

export interface FleetRouterDeps {
  registry: NodeRegistry;
  view: FleetView;
  fleet: FleetPort;
  logger: Logger;
  signal: AbortSignal;
}

const NO_CAPABILITIES: NodeView['capabilities'] = Object.freeze({
  installedServices: [],
  capabilityByType: [],
  asrLanguages: [],
  ttsLanguages: [],
  semanticLanguages: [],
  nmtPairs: [],
  nmtPairsReported: false,
}) as NodeView['capabilities'];

export class FleetRouter implements DispatchRegistry {
  /** session id → the instance that sent its jobs here. */
  private readonly origins = new Map<string, string>();
  private dispatcher: Dispatcher | undefined;
  private readonly log: Logger;

  constructor(private readonly deps: FleetRouterDeps) {
    this.log = deps.logger.child({ actor: 'fleet-router' });
  }

  setDispatcher(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  // ---- the dispatcher's registry --------------------------------------------------------------

  eligibleNodes(query: PoolQuery): string[] {
    const local = this.deps.registry.eligibleNodes(query);
    const remote = this.deps.view.eligible(query);
    if (remote.length === 0) return local;
    const seen = new Set(local);
    return [...local, ...remote.filter((id) => !seen.has(id))];
  }

  node(nodeId: string): NodeView | undefined {
    const local = this.deps.registry.node(nodeId);
    const remote = local?.connected ? undefined : this.deps.view.node(nodeId);
    if (!remote) return local;
    return {
      nodeId,
      status: remote.status,
      reason: '',
      connected: true,
      epoch: undefined,
      maxConcurrentJobs: remote.maxConcurrentJobs,
      load: remote.load,
      capabilities: NO_CAPABILITIES,
      pools: remote.pools,
      registeredAt: 0,
      lastHeartbeatAt: remote.lastHeartbeatAt,
    };
  }

  sendToNode(nodeId: string, message: SchedulerToNodeMessage): boolean {
    const { registry } = this.deps;
    if (registry.node(nodeId)?.connected) return registry.sendToNode(nodeId, message);
    const remote = message.type === 'job_assign' || message.type === 'job_cancel' ? this.deps.view.node(nodeId) : undefined;
    if (!remote || (message.type !== 'job_assign' && message.type !== 'job_cancel')) return registry.sendToNode(nodeId, message);
    const { fleet } = this.deps;
    const envelope: FleetEnvelope = { kind: 'to_node', from: fleet.instanceId, nodeId, sessionId: message.type === 'job_assign' ? message.session_id : '', message };
    fleet.send(remote.owner, envelope, this.deps.signal).catch((err: unknown) => {
      this.log.warn({ err, nodeId, owner: remote.owner, jobId: message.job_id }, 'could not reach the owner instance of a node');
      if (message.type === 'job_assign') this.dispatcher?.attemptUndeliverable(message.job_id, message.attempt_id, nodeId);
    });
    return true;
  }

  // ---- envelopes from other instances ---------------------------------------------------------

  readonly onEnvelope = async (envelope: FleetEnvelope): Promise<void> => {
    switch (envelope.kind) {
      case 'to_node': {
        const { registry } = this.deps;
        const { message, nodeId, from } = envelope;
        if (message.type === 'job_assign') this.remember(envelope.sessionId, from);
        if (registry.node(nodeId)?.connected && registry.sendToNode(nodeId, message)) return;
        if (message.type !== 'job_assign') return;
        this.log.info({ nodeId, jobId: message.job_id, from }, 'job_assign for a node not held here: undeliverable');
        await this.deps.fleet.send(from, { kind: 'undeliverable', from: this.deps.fleet.instanceId, nodeId, jobId: message.job_id, attemptId: message.attempt_id }, this.deps.signal);
        return;
      }
      case 'from_node':
        this.dispatcher?.onNodeMessage(envelope.nodeId, envelope.message);
        return;
      case 'undeliverable':
        this.dispatcher?.attemptUndeliverable(envelope.jobId, envelope.attemptId, envelope.nodeId);
        return;
      default: {
        const never: never = envelope;
        return never;
      }
    }
  };

  // ---- job messages of the nodes held here ----------------------------------------------------

  /** The registry's job sink: this instance's sessions get them, others' go to their instance. */
  readonly onLocalNodeMessage = (nodeId: string, message: FleetNodeMessage): void => {
    const dispatcher = this.dispatcher;
    if (!dispatcher) return;
    if (dispatcher.knowsJob(message.job_id) || dispatcher.hasSession(message.session_id)) {
      dispatcher.onNodeMessage(nodeId, message);
      return;
    }
    const origin = this.origins.get(message.session_id);
    if (origin !== undefined) {
      this.forward(origin, nodeId, message);
      return;
    }
    // Not seen here (the node moved here with a job of another instance): ask the store.
    this.deps.fleet.sessionHome(message.session_id, this.deps.signal).then(
      (home) => {
        if (home === undefined || home === this.deps.fleet.instanceId) dispatcher.onNodeMessage(nodeId, message);
        else this.forward(home, nodeId, message);
      },
      () => dispatcher.onNodeMessage(nodeId, message),
    );
  };

  private forward(to: string, nodeId: string, message: FleetNodeMessage): void {
    if (to === this.deps.fleet.instanceId) {
      this.dispatcher?.onNodeMessage(nodeId, message);
      return;
    }
    this.deps.fleet.send(to, { kind: 'from_node', from: this.deps.fleet.instanceId, nodeId, message }, this.deps.signal).catch((err: unknown) => {
      // Lost: the session's dispatcher times the attempt out and reassigns it.
      this.log.warn({ err, nodeId, jobId: message.job_id, to }, 'could not forward a node message to its session\'s instance');
    });
  }

  private remember(sessionId: string, origin: string): void {
    if (sessionId === '') return;
    this.origins.delete(sessionId);
    this.origins.set(sessionId, origin);
    if (this.origins.size > MAX_ORIGINS) this.origins.delete(this.origins.keys().next().value!);
  }
}
