/**
 * The service lifecycle machine with fake actors on a FakeClock: a scripted process (the test sends
 * its reports and reads the signals it received), scripted health answers, a fixed port.
 */
import { createActor, fromCallback, fromPromise } from 'xstate';
import { FakeClock } from '../../src/kernel/clock.js';
import type { ProcessSignal } from '../../src/kernel/ports/process.port.js';
import type { HealthProbeResult } from '../../src/kernel/ports/service-health.port.js';
import { serviceLifecycleMachine } from '../../src/machines/service-lifecycle.machine.js';
import type { ProcessCommand, ProcessReport, ServiceLifecyclePolicy, ServiceLifecycleView, ServiceProcessInput } from '../../src/machines/service-lifecycle.machine.js';

export const TEST_POLICY: ServiceLifecyclePolicy = {
  startupTimeoutMs: 10_000,
  healthIntervalMs: 1_000,
  healthTimeoutMs: 2_000,
  probeIntervalMs: 10_000,
  probeFailureLimit: 3,
  stopTimeoutMs: 5_000,
  maxRestarts: 3,
  withinMs: 60_000,
  minBackoffMs: 1_000,
  maxBackoffMs: 30_000,
};

export interface FakeProcess {
  input: ServiceProcessInput;
  signals: ProcessSignal[];
  disposed: boolean;
  report(event: ProcessReport): void;
}

/** `hang`: the probe never answers. */
export type ScriptedHealth = HealthProbeResult | 'hang';

export function bootLifecycle(options: { policy?: Partial<ServiceLifecyclePolicy>; autoStart?: boolean; port?: number | Error } = {}) {
  const clock = new FakeClock();
  const processes: FakeProcess[] = [];
  const probes: ServiceProcessInput[] = [];
  let health: () => ScriptedHealth = () => ({ ready: false, reason: 'refused' });
  const machine = serviceLifecycleMachine.provide({
    actors: {
      allocatePort: fromPromise<number, { serviceId: string }>(async () => {
        const port = options.port ?? 5009;
        if (port instanceof Error) throw port;
        return port;
      }),
      process: fromCallback<ProcessCommand, ServiceProcessInput, ProcessReport>(({ input, sendBack, receive }) => {
        const proc: FakeProcess = { input, signals: [], disposed: false, report: (event) => sendBack(event) };
        processes.push(proc);
        receive((command) => proc.signals.push(command.signal));
        return () => {
          proc.disposed = true;
        };
      }),
      probeHealth: fromPromise<HealthProbeResult, ServiceProcessInput>(({ input }) => {
        probes.push(input);
        const answer = health();
        return answer === 'hang' ? new Promise<HealthProbeResult>(() => undefined) : Promise.resolve(answer);
      }),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { serviceId: 'tts-es', policy: { ...TEST_POLICY, ...options.policy }, autoStart: options.autoStart ?? true, clock, random: () => 0 },
  });
  const views: ServiceLifecycleView[] = [];
  const errors: unknown[] = [];
  actor.on('service.changed', (event) => views.push(event.view));
  actor.subscribe({ error: (err) => errors.push(err) });
  actor.start();
  const states = () => views.map((v) => v.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
  const current = () => actor.getSnapshot().context.lifecycle;
  const lastProcess = () => processes.at(-1)!;
  return {
    actor,
    clock,
    processes,
    probes,
    views,
    errors,
    states,
    current,
    lastProcess,
    setHealth(next: ScriptedHealth | (() => ScriptedHealth)) {
      health = typeof next === 'function' ? next : () => next;
    },
  };
}
