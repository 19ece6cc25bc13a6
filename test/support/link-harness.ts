/**
 * Runs the node's link actor (the link machine wired by `createLinkActor`) on a fake clock, with a
 * fake socket port, an in-memory node_id store, a fake hardware port and a real bus.
 */
import { createActor } from 'xstate';
import type { AnyActorRef } from 'xstate';
import { createHardwareMonitor } from '../../src/actors/node/hardware.actor.js';
import { createLinkActor } from '../../src/actors/node/link.actor.js';
import { createBus } from '../../src/kernel/bus.js';
import type { BusEvent, BusEventType } from '../../src/kernel/bus.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { silentLogger } from '../../src/kernel/logger.js';
import type { HardwarePort } from '../../src/kernel/ports/hardware.port.js';
import { DEFAULT_LINK_OPTIONS } from '../../src/machines/link.defaults.js';
import { linkStateOf } from '../../src/machines/link.machine.js';
import type { LinkOptions } from '../../src/machines/link.defaults.js';
import type { NodeRegisterAck } from '../../src/protocol/node-link.schema.js';
import { FakeHardware } from '../fakes/hardware.fake.js';
import { MemoryNodeIdentityStore } from '../fakes/node-identity.fake.js';
import { FakeSchedulerLink } from '../fakes/scheduler-link.fake.js';
import { FakeServiceRegistry } from '../fakes/service-registry.fake.js';

export interface LinkHarnessOptions {
  nodeId?: string;
  random?: () => number;
  hardware?: HardwarePort;
  options?: Partial<LinkOptions>;
  /** The schedulers, in failover order. Default one: `ws://127.0.0.1:1/ws/node`. */
  schedulerUrls?: string[];
}

export function ack(nodeId = 'node-3F2A9C1B', heartbeatIntervalMs?: number): NodeRegisterAck {
  return { type: 'node_register_ack', node_id: nodeId, message: 'Node registered successfully', status: 'registering', ...(heartbeatIntervalMs !== undefined ? { heartbeat_interval_ms: heartbeatIntervalMs } : {}) };
}

export async function startLinkHarness(opts: LinkHarnessOptions = {}) {
  const clock = new FakeClock();
  const bus = createBus();
  const port = new FakeSchedulerLink();
  const store = new MemoryNodeIdentityStore(opts.nodeId);
  const logger = silentLogger();
  const hardware = createHardwareMonitor({ port: opts.hardware ?? new FakeHardware(), bus, clock, logger, sampleTimeoutMs: 1_000 });
  const events: BusEvent[] = [];
  bus.subscribeAll((e) => events.push(e));
  const link = createLinkActor({
    bus,
    logger,
    port,
    target: { urls: opts.schedulerUrls ?? ['ws://127.0.0.1:1/ws/node'] },
    identityStore: store,
    hardware,
    registry: new FakeServiceRegistry(),
    identity: { version: '0.1.0', epoch: 'epoch-1', acceptPublicJobs: true, maxConcurrentJobs: 4 },
    allowCpuServices: false,
    options: { ...DEFAULT_LINK_OPTIONS, ...opts.options },
    ...(opts.random ? { random: opts.random } : {}),
  });
  const spec = link.childSpec();
  const errors: unknown[] = [];
  const ref: AnyActorRef = createActor(spec.logic, { clock, input: spec.input });
  spec.attach?.(ref);
  ref.subscribe({ error: (err) => errors.push(err) });
  ref.start();
  await clock.advanceAsync(0);

  const of = <K extends BusEventType>(type: K) => events.filter((e): e is Extract<BusEvent, { type: K }> => e.type === type);
  return {
    clock,
    bus,
    port,
    store,
    ref,
    errors,
    events,
    of,
    link,
    state: () => linkStateOf(ref.getSnapshot() as never),
    /** Opens the newest connection and lets the registration be built and sent. */
    async open() {
      port.last.open();
      await clock.advanceAsync(0);
    },
    /** Opens, then acks the registration. */
    async register(nodeId = 'node-3F2A9C1B', heartbeatIntervalMs?: number) {
      await this.open();
      port.last.deliver(ack(nodeId, heartbeatIntervalMs));
      await clock.advanceAsync(0);
    },
  };
}
