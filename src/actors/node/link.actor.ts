/**
 * The node's `link` actor: the link machine wired to the SchedulerLinkPort (socket), the
 * NodeIdentityStore (persisted `node_id`), the hardware probe and the service registry (the
 * `node_register` it sends), and the bus.
 *
 * Bus contract:
 * - publishes every event the machine emits (`link.stateChanged`, `link.connected`,
 *   `link.registered`, `link.disconnected`, `link.reconnectScheduled`, `link.rejected`,
 *   `link.nodeError`, `link.jobAssigned`, `link.jobCancelled`, `link.control`, `link.sendDropped`);
 * - consumes `link.send` (any node→scheduler message but `node_register`; sent only while
 *   registered, otherwise dropped with `link.sendDropped`) and `link.retryRequested` (operator).
 */
import { fromCallback, fromPromise } from 'xstate';
import type { AnyActorRef } from 'xstate';
import type { Bus } from '../../kernel/bus.js';
import { toKernelError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { NodeIdentityStore } from '../../kernel/ports/node-identity.port.js';
import type { SchedulerLinkPort, SchedulerLinkTarget } from '../../kernel/ports/scheduler-link.port.js';
import type { ServiceRegistryPort } from '../../kernel/ports/service-registry.port.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { SYSTEM_IDS } from '../../kernel/system.js';
import { linkMachine } from '../../machines/link.machine.js';
import type { LinkOptions } from '../../machines/link.defaults.js';
import type { LinkEmitted, LinkEvent, SocketCommand } from '../../machines/link.machine.js';
import type { NodeRegister } from '../../protocol/node-link.schema.js';
import { buildCapabilityReport } from './capability-report.js';
import type { HardwareMonitor } from './hardware.actor.js';
import { buildNodeRegister } from './node-messages.js';
import type { NodeIdentity } from './node-messages.js';

export interface LinkActorOptions {
  bus: Bus;
  logger: Logger;
  port: SchedulerLinkPort;
  /** The schedulers' node link URLs in failover order (at least one), and the token sent to each. */
  target: { urls: readonly string[]; authToken?: string };
  identityStore: NodeIdentityStore;
  hardware: Pick<HardwareMonitor, 'probe'>;
  registry: ServiceRegistryPort;
  identity: NodeIdentity;
  allowCpuServices: boolean;
  options: LinkOptions;
  /** Random source of the reconnect jitter, in [0, 1). */
  random?: () => number;
}

export interface LinkActor {
  childSpec(): ChildSpecInput;
  /** Settles once every `node_id` write started so far has finished. */
  flush(): Promise<void>;
}

/** What an operator should do about a registration rejection the node does not retry (§3.1 step 4). */
export function rejectionHint(code: string): string {
  switch (code) {
    case 'NO_GPU_AVAILABLE':
      return 'the scheduler accepts only nodes with a GPU: run the node on a machine whose GPU `nvidia-smi` lists, or set allow_cpu_nodes on the scheduler; then retry (POST /api/v1/link/retry on the node control endpoint, or restart the node)';
    case 'INVALID_CAPABILITY_SCHEMA':
      return 'the scheduler expects another capability_schema_version than "2.0": run matching linguamesh versions on node and scheduler; then retry (POST /api/v1/link/retry on the node control endpoint, or restart the node)';
    default:
      return 'the node retries on its own with backoff';
  }
}

export function createLinkActor(options: LinkActorOptions): LinkActor {
  const log = options.logger.child({ actor: SYSTEM_IDS.link });
  let savedNodeId: string | undefined;
  const writes = new Set<Promise<void>>();

  const persist = (nodeId: string) => {
    if (nodeId === '' || nodeId === savedNodeId) return;
    savedNodeId = nodeId;
    const write = options.identityStore.save(nodeId, new AbortController().signal).then(
      () => log.debug({ nodeId }, 'node_id persisted'),
      (err: unknown) => {
        savedNodeId = undefined;
        const error = toKernelError(err, 'NODE_ID_PERSIST_FAILED', true);
        log.error({ err: error, code: error.code, nodeId }, 'could not persist node_id; a restart will register as a new node');
      },
    );
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };

  const onEmitted = (event: LinkEmitted) => {
    options.bus.publish(event);
    switch (event.type) {
      case 'link.stateChanged':
        if (event.state === 'registered') log.info({ nodeId: event.nodeId, schedulerUrl: event.schedulerUrl, schedulerStatus: event.schedulerStatus, reason: event.schedulerReason }, 'scheduler status');
        else log.debug({ state: event.state, schedulerUrl: event.schedulerUrl }, 'link state');
        break;
      case 'link.connected':
        log.debug({ schedulerUrl: event.schedulerUrl }, 'connected; registering');
        break;
      case 'link.registered':
        log.info({ nodeId: event.nodeId, schedulerUrl: event.schedulerUrl, heartbeatIntervalMs: event.heartbeatIntervalMs }, 'registered with the scheduler');
        persist(event.nodeId);
        break;
      case 'link.disconnected':
        log.info({ cause: event.cause, code: event.code, reason: event.reason }, 'link closed');
        break;
      case 'link.reconnectScheduled':
        if (event.failover) log.info({ schedulerUrl: event.schedulerUrl, delayMs: event.delayMs }, 'trying the next scheduler');
        else log.info({ attempt: event.attempt, delayMs: event.delayMs, schedulerUrl: event.schedulerUrl }, 'reconnecting after backoff');
        break;
      case 'link.rejected':
        if (event.retrying) log.warn({ code: event.code, message: event.message }, 'registration rejected; reconnecting with backoff');
        else log.error({ code: event.code, message: event.message, hint: rejectionHint(event.code) }, 'registration rejected; not retrying until an operator asks');
        break;
      case 'link.nodeError':
        log.warn({ code: event.code, message: event.message, details: event.details }, 'scheduler reported an error');
        break;
      case 'link.sendDropped':
        log.debug({ messageType: event.messageType, reason: event.reason }, 'outgoing message dropped');
        break;
      case 'link.jobAssigned':
        log.debug({ jobId: event.message.job_id, attemptId: event.message.attempt_id }, 'job assigned');
        break;
      case 'link.jobCancelled':
        log.debug({ jobId: event.message.job_id }, 'job cancelled');
        break;
      case 'link.control':
        log.info({ command: event.message.command, reason: event.message.reason }, 'scheduler control request');
        break;
      default: {
        const never: never = event;
        return never;
      }
    }
  };

  const logic = linkMachine.provide({
    actors: {
      loadNodeId: fromPromise<string | undefined>(async ({ signal }) => {
        const nodeId = await options.identityStore.load(signal);
        savedNodeId = nodeId;
        if (nodeId !== undefined) log.info({ nodeId }, 'persisted node_id loaded');
        return nodeId;
      }),
      buildRegistration: fromPromise<NodeRegister, { nodeId: string | undefined }>(async ({ input, signal }) => {
        const probe = await options.hardware.probe(signal);
        const report = buildCapabilityReport(options.registry.list(), { allowCpuServices: options.allowCpuServices });
        log.info({ nodeId: input.nodeId, services: report.installed_services.length }, 'sending node_register');
        return buildNodeRegister({ identity: options.identity, nodeId: input.nodeId, platform: probe.platform, hardware: probe.hardware, report });
      }),
      socket: fromCallback<SocketCommand, { url: string }>(({ sendBack, receive, input }) => {
        const send = (event: LinkEvent) => sendBack(event);
        const target: SchedulerLinkTarget = { url: input.url, ...(options.target.authToken !== undefined ? { authToken: options.target.authToken } : {}) };
        log.debug({ url: target.url }, 'connecting to the scheduler');
        const connection = options.port.connect(target, (event) => {
          switch (event.type) {
            case 'opened':
              send({ type: 'link.opened' });
              break;
            case 'activity':
              send({ type: 'link.activity' });
              break;
            case 'message':
              send({ type: 'link.message', message: event.message });
              break;
            case 'closed':
              if (event.error) log.debug({ code: event.error.code, err: event.error }, 'connection failed');
              send({ type: 'link.closed', code: event.code, reason: event.reason, ...(event.error ? { errorCode: event.error.code } : {}) });
              break;
            default: {
              const never: never = event;
              return never;
            }
          }
        });
        receive((command) => {
          switch (command.type) {
            case 'socket.send':
              if (!connection.send(command.message)) options.bus.publish({ type: 'link.sendDropped', messageType: command.message.type, reason: 'socket_closed' });
              break;
            case 'socket.ping':
              connection.ping();
              break;
            case 'socket.terminate':
              log.warn('no frame from the scheduler within link_dead_ms; dropping the connection');
              connection.terminate();
              break;
            default: {
              const never: never = command;
              return never;
            }
          }
        });
        return () => connection.close(1000, 'node closing');
      }),
      commands: fromCallback(({ sendBack }) => {
        const unsubscribe = [
          options.bus.subscribe('link.send', (event) => sendBack({ type: 'link.send', message: event.message })),
          options.bus.subscribe('link.retryRequested', (event) => {
            log.info({ source: event.source }, 'retry requested');
            sendBack({ type: 'link.retry' });
          }),
        ];
        return () => unsubscribe.forEach((u) => u());
      }),
    },
  });

  return {
    childSpec: () => ({
      id: SYSTEM_IDS.link,
      systemId: SYSTEM_IDS.link,
      logic,
      input: { options: options.options, schedulerUrls: options.target.urls, ...(options.random ? { random: options.random } : {}) },
      restart: 'permanent',
      shutdownMs: 5_000,
      attach: (ref: AnyActorRef) => {
        const subscription = ref.on('*', (event: LinkEmitted) => onEmitted(event));
        return () => subscription.unsubscribe();
      },
    }),
    flush: async () => {
      await Promise.all([...writes]);
    },
  };
}
