/**
 * The node's `heartbeat` actor: the heartbeat machine (when) wired to the bus (link events and
 * local changes in, `link.send` out), the service registry (the capability report), the hardware
 * sampler (`resource_usage`) and the jobs count source (`running_jobs`).
 *
 * `epoch` and `seq` belong to the process, not to one incarnation of the actor: `seq` starts at 1
 * and grows by one per heartbeat sent, across reconnects and actor restarts (PROTOCOL.md §3.2).
 */
import { fromCallback } from 'xstate';
import type { AnyActorRef } from 'xstate';
import type { Bus, BusEventOf } from '../../kernel/bus.js';
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { ServiceRegistryPort } from '../../kernel/ports/service-registry.port.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { SYSTEM_IDS } from '../../kernel/system.js';
import { heartbeatMachine } from '../../machines/heartbeat.machine.js';
import type { HeartbeatOptions } from '../../machines/heartbeat.defaults.js';
import type { HeartbeatEmitted, HeartbeatEvent } from '../../machines/heartbeat.machine.js';
import { buildCapabilityReport } from './capability-report.js';
import type { HardwareMonitor } from './hardware.actor.js';
import { buildNodeHeartbeat, resourceUsageOf } from './node-messages.js';

export interface HeartbeatActorOptions {
  bus: Bus;
  logger: Logger;
  clock: Clock;
  registry: ServiceRegistryPort;
  hardware: Pick<HardwareMonitor, 'sample'>;
  /** This process's epoch (§3.2). */
  epoch: string;
  /** Jobs being processed now (`resource_usage.running_jobs`). */
  runningJobs: () => number;
  allowCpuServices: boolean;
  options: HeartbeatOptions;
}

export interface HeartbeatActor {
  childSpec(): ChildSpecInput;
  /** The seq the next heartbeat will carry. */
  nextSeq(): number;
  /** Settles once every heartbeat being built has been handed to the link. */
  flush(): Promise<void>;
  /** Releases the bus subscriptions of the process-wide link view. */
  dispose(): void;
}

/** Bus events that change the capability report (§3.2 "On change"). */
const CHANGE_EVENTS = ['service.statusChanged', 'package.installed', 'package.uninstalled'] as const;

export function createHeartbeatActor(options: HeartbeatActorOptions): HeartbeatActor {
  const log = options.logger.child({ actor: SYSTEM_IDS.heartbeat });
  let seq = 1;
  let queue: Promise<void> = Promise.resolve();

  // The link as last announced, so that a restarted heartbeat actor picks up a live connection
  // instead of waiting for the next one.
  let connected = false;
  let registered: BusEventOf<'link.registered'> | undefined;
  const viewSubscriptions = [
    options.bus.subscribe('link.connected', () => {
      connected = true;
      registered = undefined;
    }),
    options.bus.subscribe('link.registered', (event) => {
      registered = event;
    }),
    options.bus.subscribe('link.disconnected', () => {
      connected = false;
      registered = undefined;
    }),
  ];

  const isRegistered = (ref: AnyActorRef) => {
    const snapshot = ref.getSnapshot() as { status: string; matches(value: unknown): boolean };
    return snapshot.status === 'active' && snapshot.matches({ connected: { session: 'registered' } });
  };

  const send = async (ref: AnyActorRef, due: HeartbeatEmitted) => {
    const sample = await options.hardware.sample();
    // The link may have gone while sampling: a heartbeat is only handed over while registered.
    if (!isRegistered(ref)) {
      log.debug({ trigger: due.trigger }, 'heartbeat skipped: no longer registered');
      return;
    }
    const message = buildNodeHeartbeat({
      nodeId: due.nodeId,
      timestampMs: options.clock.now(),
      epoch: options.epoch,
      seq,
      usage: resourceUsageOf(sample, options.runningJobs()),
      report: buildCapabilityReport(options.registry.list(), { allowCpuServices: options.allowCpuServices }),
    });
    const sent = seq;
    seq += 1;
    options.bus.publish({ type: 'link.send', message });
    options.bus.publish({ type: 'heartbeat.sent', seq: sent, trigger: due.trigger });
    log.debug({ seq: sent, trigger: due.trigger }, 'heartbeat sent');
  };

  const logic = heartbeatMachine.provide({
    actors: {
      commands: fromCallback(({ sendBack }) => {
        const forward = (event: HeartbeatEvent) => sendBack(event);
        if (connected) forward({ type: 'link.connected' });
        if (registered) forward(registered);
        const unsubscribe = [
          options.bus.subscribe('link.connected', forward),
          options.bus.subscribe('link.registered', forward),
          options.bus.subscribe('link.disconnected', forward),
          ...CHANGE_EVENTS.map((type) => options.bus.subscribe(type, () => forward({ type: 'heartbeat.changed' }))),
        ];
        return () => unsubscribe.forEach((u) => u());
      }),
    },
  });

  return {
    childSpec: () => ({
      id: SYSTEM_IDS.heartbeat,
      systemId: SYSTEM_IDS.heartbeat,
      logic,
      input: { options: options.options },
      restart: 'permanent',
      shutdownMs: 1_000,
      attach: (ref: AnyActorRef) => {
        const subscription = ref.on('heartbeat.due', (due: HeartbeatEmitted) => {
          // One at a time, in the order they fell due, so seq follows the send order.
          queue = queue.then(() => send(ref, due)).catch((err: unknown) => log.error({ err }, 'heartbeat could not be built'));
        });
        return () => subscription.unsubscribe();
      },
    }),
    nextSeq: () => seq,
    flush: () => queue,
    dispose: () => viewSubscriptions.forEach((u) => u()),
  };
}
