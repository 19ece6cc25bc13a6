/**
 * Runs the node's heartbeat actor on a fake clock with a real bus, a fake service registry and a
 * fake hardware port. The test plays the link by publishing `link.connected|registered|disconnected`.
 */
import { createActor } from 'xstate';
import { createHardwareMonitor } from '../../src/actors/node/hardware.actor.js';
import { createHeartbeatActor } from '../../src/actors/node/heartbeat.actor.js';
import { createBus } from '../../src/kernel/bus.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { silentLogger } from '../../src/kernel/logger.js';
import type { NodeHeartbeat } from '../../src/protocol/node-link.schema.js';
import { FakeHardware } from '../fakes/hardware.fake.js';
import { FakeServiceRegistry } from '../fakes/service-registry.fake.js';

export interface SentHeartbeat {
  /** ms since the harness started. */
  at: number;
  trigger: string;
  message: NodeHeartbeat;
}

export async function startHeartbeatHarness(options: { intervalMs?: number; debounceMs?: number; runningJobs?: () => number } = {}) {
  const clock = new FakeClock();
  const t0 = clock.now();
  const bus = createBus();
  const registry = new FakeServiceRegistry(bus);
  const logger = silentLogger();
  const hardware = createHardwareMonitor({ port: new FakeHardware(), bus, clock, logger, sampleTimeoutMs: 1_000 });
  const actor = createHeartbeatActor({
    bus,
    logger,
    clock,
    registry,
    hardware,
    epoch: 'epoch-1',
    runningJobs: options.runningJobs ?? (() => 0),
    allowCpuServices: false,
    options: { intervalMs: options.intervalMs ?? 15_000, debounceMs: options.debounceMs ?? 2_000 },
  });
  const sent: SentHeartbeat[] = [];
  const messages: NodeHeartbeat[] = [];
  bus.subscribe('link.send', (e) => {
    if (e.message.type === 'node_heartbeat') messages.push(e.message);
  });
  bus.subscribe('heartbeat.sent', (e) => {
    const message = messages.find((m) => m.seq === e.seq);
    if (message) sent.push({ at: clock.now() - t0, trigger: e.trigger, message });
  });
  const spec = actor.childSpec();
  const errors: unknown[] = [];
  const ref = createActor(spec.logic, { clock, input: spec.input });
  spec.attach?.(ref);
  ref.subscribe({ error: (err) => errors.push(err) });
  ref.start();

  return {
    clock,
    bus,
    registry,
    ref,
    actor,
    sent,
    errors,
    /** Moves the fake clock to `ms` after the start, running timers and I/O on the way. */
    async at(ms: number) {
      const now = clock.now() - t0;
      if (ms < now) throw new Error(`time ${ms} is in the past (${now})`);
      await clock.advanceAsync(ms - now);
    },
    connect: () => bus.publish({ type: 'link.connected' }),
    ack: (nodeId = 'node-3F2A9C1B', heartbeatIntervalMs?: number) => bus.publish({ type: 'link.registered', nodeId, ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}) }),
    disconnect: () => bus.publish({ type: 'link.disconnected', cause: 'closed', code: 1006 }),
    change: () => registry.set({ id: `svc-${clock.now() - t0}`, type: 'asr', state: 'running', languages: ['en'] }),
    times: () => sent.map((s) => s.at),
    triggers: () => sent.map((s) => s.trigger),
  };
}
