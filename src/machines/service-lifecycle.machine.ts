/**
 * The lifecycle of one local speech-service process (PROTOCOL.md §9.1, §3.3):
 *
 *   stopped → starting → running → stopping → stopped
 *   starting | running → failed → backoff → starting      (crash, hung process: restart with backoff)
 *   failed → error                                        (past its restart intensity: stays down)
 *   starting → stopping → error                           (not ready within startup_timeout_ms)
 *
 * `starting` covers choosing a port (`allocatePort`) and waiting for the first passing health check
 * (`probeHealth` every `healthIntervalMs`, or the stdout line `[SERVICE_READY]`). While the process
 * lives, the `process` actor owns it: it reports `process.spawned`/`process.exited`/ready lines and
 * takes `process.signal` commands. A running service is probed every `probeIntervalMs`;
 * `probeFailureLimit` failed probes in a row mean it hangs, and it is killed.
 *
 * Every change of what the node reports (state, pid, languages) is emitted as `service.changed`
 * with a full view; the wiring turns it into the registry entry and the `service.statusChanged`
 * bus event. The machine does no I/O: its three actors are placeholders until provided.
 */
import { assign, emit, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import type { ServiceLifecycleState } from '../kernel/bus-events.js';
import { backoffDelayMs, withinIntensity } from '../kernel/backoff.js';
import type { Clock } from '../kernel/clock.js';
import { ActorNotProvidedError } from '../kernel/errors.js';
import type { ProcessExit, ProcessSignal } from '../kernel/ports/process.port.js';
import type { HealthProbeResult } from '../kernel/ports/service-health.port.js';
import type { ServiceLanguagesInput } from '../protocol/service-json.schema.js';

/** Timings and restart budget of one service (all in ms except the counts). */
export interface ServiceLifecyclePolicy {
  /** Bound of a start, from spawn to the first passing health check (service.json `startup_timeout_ms`). */
  startupTimeoutMs: number;
  /** Health polling period while starting (service.json `health_check.interval_ms`). */
  healthIntervalMs: number;
  /** Bound of one health probe (service.json `health_check.timeout_ms`). */
  healthTimeoutMs: number;
  /** Health probe period while running (§9.1: at most 30 000). */
  probeIntervalMs: number;
  /** Failed probes in a row that make a running service failed (§9.1: 3). */
  probeFailureLimit: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  stopTimeoutMs: number;
  /** Restart intensity: at most `maxRestarts` automatic restarts within `withinMs`… */
  maxRestarts: number;
  withinMs: number;
  /** …each after a capped exponential backoff with jitter. */
  minBackoffMs: number;
  maxBackoffMs: number;
}

export interface ServiceLifecycleInput {
  serviceId: string;
  policy: ServiceLifecyclePolicy;
  /** Start at once (an enabled service at node boot). */
  autoStart: boolean;
  /** Time source of the intensity window and the warm-up measure (timers follow the actor's clock). */
  clock: Pick<Clock, 'now'>;
  /** Random source of the backoff jitter, in [0, 1). */
  random?: () => number;
}

/** What happens once the process has exited after a stop request. */
type AfterStop = 'stopped' | 'restart' | 'error' | 'exit';

export interface ServiceLifecycleContext {
  serviceId: string;
  policy: ServiceLifecyclePolicy;
  autoStart: boolean;
  clock: Pick<Clock, 'now'>;
  random: () => number;
  lifecycle: ServiceLifecycleState;
  port?: number;
  pid?: number;
  /** When the current start began (clock time). */
  startedAt?: number;
  warmupMs?: number;
  /** The `languages` of the latest ready health answer (§9.7 [ext]). */
  healthLanguages?: ServiceLanguagesInput;
  lastError?: string;
  lastExit?: ProcessExit;
  /** Why the latest health probe did not pass. */
  lastProbe?: string;
  /** Times of the automatic restarts inside the intensity window. */
  restarts: number[];
  intensityOk: boolean;
  backoffMs: number;
  probeFailures: number;
  /** Set by the ready line: probe at once to learn the service's run-time languages. */
  probeSoon: boolean;
  afterStop: AfterStop;
}

/** What the node reports about the service, emitted on every change. */
export interface ServiceLifecycleView {
  state: ServiceLifecycleState;
  pid?: number;
  port?: number;
  lastError?: string;
  lastExit?: ProcessExit;
  warmupMs?: number;
  healthLanguages?: ServiceLanguagesInput;
}

export type ServiceLifecycleEmitted = { type: 'service.changed'; serviceId: string; view: ServiceLifecycleView };

/** Reports of the `process` actor. */
export type ProcessReport =
  | { type: 'process.spawned'; pid: number }
  | { type: 'process.spawnFailed'; message: string }
  | { type: 'process.exited'; exit: ProcessExit }
  /** A stdout line that is exactly `[SERVICE_READY]`: a passing health check (§9.1). */
  | { type: 'process.readyLine' }
  /** A stdout line that merely contains it: probe now. */
  | { type: 'process.readyHint' };

/** Commands to the `process` actor. */
export type ProcessCommand = { type: 'process.signal'; signal: ProcessSignal };

export type ServiceLifecycleEvent =
  | { type: 'service.start' }
  | { type: 'service.stop' }
  | { type: 'service.restart' }
  | { type: 'supervisor.shutdown' }
  | ProcessReport;

export interface ServicePortInput {
  serviceId: string;
}
export interface ServiceProcessInput {
  serviceId: string;
  port: number;
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
}

function viewOf(context: ServiceLifecycleContext): ServiceLifecycleView {
  const { lifecycle: state, pid, port, lastError, lastExit, warmupMs, healthLanguages } = context;
  return { state, pid, port, lastError, lastExit, warmupMs, healthLanguages };
}

const lifecycleSetup = setup({
  types: {} as {
    context: ServiceLifecycleContext;
    events: ServiceLifecycleEvent;
    input: ServiceLifecycleInput;
    emitted: ServiceLifecycleEmitted;
  },
  actors: {
    allocatePort: fromPromise<number, ServicePortInput>(async () => {
      throw new ActorNotProvidedError('allocatePort');
    }),
    process: fromCallback<ProcessCommand, ServiceProcessInput, ProcessReport>(() => {
      throw new ActorNotProvidedError('process');
    }),
    probeHealth: fromPromise<HealthProbeResult, ServiceProcessInput>(async () => {
      throw new ActorNotProvidedError('probeHealth');
    }),
  },
  delays: {
    startupTimeout: ({ context }) => context.policy.startupTimeoutMs,
    healthInterval: ({ context }) => context.policy.healthIntervalMs,
    healthTimeout: ({ context }) => context.policy.healthTimeoutMs,
    probeDelay: ({ context }) => (context.probeSoon ? 0 : context.policy.probeIntervalMs),
    stopTimeout: ({ context }) => context.policy.stopTimeoutMs,
    backoffDelay: ({ context }) => context.backoffMs,
  },
  guards: {
    autoStart: ({ context }) => context.autoStart,
    intensityOk: ({ context }) => context.intensityOk,
    isReady: (_, params: { result: HealthProbeResult }) => params.result.ready,
    probeLimitReached: ({ context }) => context.probeFailures + 1 >= context.policy.probeFailureLimit,
    afterStopIs: ({ context }, params: { next: AfterStop }) => context.afterStop === params.next,
  },
  actions: {
    announce: emit(({ context }) => ({ type: 'service.changed' as const, serviceId: context.serviceId, view: viewOf(context) })),
    setLifecycle: assign((_, params: { lifecycle: ServiceLifecycleState }) => ({ lifecycle: params.lifecycle })),
    setAfterStop: assign((_, params: { next: AfterStop }) => ({ afterStop: params.next })),
    /** A new stop request during a stop: a node shutdown always wins; otherwise the latest request does. */
    redirectStop: assign(({ context }, params: { next: AfterStop }) => ({ afterStop: context.afterStop === 'exit' ? 'exit' : params.next })),
    countProbeFailure: assign(({ context }, params: { reason: string }) => ({ probeFailures: context.probeFailures + 1, lastProbe: params.reason })),
    forgetProcess: assign({ pid: undefined, port: undefined }),
  },
});

const enter = (lifecycle: ServiceLifecycleState) => [{ type: 'setLifecycle', params: { lifecycle } }, 'announce'] as const;
const stopThen = (next: AfterStop) => ({ target: '#serviceLifecycle.live.stopping', actions: { type: 'setAfterStop', params: { next } } }) as const;
const redirectStop = (next: AfterStop) => ({ actions: { type: 'redirectStop', params: { next } } }) as const;
const probeFailed = (reason: string) => ({ type: 'countProbeFailure', params: { reason } }) as const;
const notReadyReason = (result: HealthProbeResult) => (result.ready ? 'ready' : result.reason);
/** Where a stop request leads once the process has exited. */
const afterExit = [
  { guard: { type: 'afterStopIs', params: { next: 'restart' } }, target: '#serviceLifecycle.allocating' },
  { guard: { type: 'afterStopIs', params: { next: 'error' } }, target: '#serviceLifecycle.error' },
  { guard: { type: 'afterStopIs', params: { next: 'exit' } }, target: '#serviceLifecycle.done' },
  { target: '#serviceLifecycle.stopped' },
] as const;

export const serviceLifecycleMachine = lifecycleSetup.createMachine({
  id: 'serviceLifecycle',
  context: ({ input }) => ({
    serviceId: input.serviceId,
    policy: input.policy,
    autoStart: input.autoStart,
    clock: input.clock,
    random: input.random ?? Math.random,
    lifecycle: 'stopped',
    restarts: [],
    intensityOk: true,
    backoffMs: 0,
    probeFailures: 0,
    probeSoon: false,
    afterStop: 'stopped',
  }),
  initial: 'init',
  states: {
    init: { always: [{ guard: 'autoStart', target: 'allocating' }, { target: 'stopped' }] },
    stopped: {
      entry: ['forgetProcess', ...enter('stopped')],
      on: { 'service.start': 'allocating', 'service.restart': 'allocating', 'supervisor.shutdown': 'done' },
    },
    allocating: {
      entry: [
        assign({ startedAt: ({ context }) => context.clock.now(), probeFailures: 0, pid: undefined, port: undefined, warmupMs: undefined, lastProbe: undefined, afterStop: 'stopped' }),
        ...enter('starting'),
      ],
      invoke: {
        src: 'allocatePort',
        input: ({ context }) => ({ serviceId: context.serviceId }),
        onDone: { target: 'live', actions: assign({ port: ({ event }) => event.output }) },
        onError: { target: 'error', actions: assign({ lastError: ({ event }) => `no port: ${event.error instanceof Error ? event.error.message : String(event.error)}` }) },
      },
      on: { 'service.stop': 'stopped', 'supervisor.shutdown': 'done' },
    },
    live: {
      invoke: {
        id: 'process',
        src: 'process',
        input: ({ context }) => ({ serviceId: context.serviceId, port: context.port ?? 0 }),
        onError: { target: 'failed', actions: assign({ lastError: 'the process supervisor failed' }) },
      },
      on: {
        'process.spawned': { actions: [assign({ pid: ({ event }) => event.pid }), 'announce'] },
        'process.spawnFailed': { target: 'error', actions: assign({ lastError: ({ event }) => event.message }) },
        'process.exited': {
          target: 'failed',
          actions: assign({
            lastExit: ({ event }) => event.exit,
            lastError: ({ context, event }) => `${describeExit(event.exit)}${context.lifecycle === 'starting' ? ' before it was ready' : ''}`,
          }),
        },
      },
      initial: 'starting',
      states: {
        starting: {
          after: {
            // §9.1 [fix]: never "assume running"; the service ends in error and its process is stopped.
            startupTimeout: {
              target: '#serviceLifecycle.live.stopping',
              actions: assign({
                afterStop: 'error',
                lastError: ({ context }) => `not ready within ${context.policy.startupTimeoutMs} ms${context.lastProbe ? ` (last health check: ${context.lastProbe})` : ''}`,
              }),
            },
          },
          initial: 'waiting',
          states: {
            waiting: { after: { healthInterval: 'probing' }, on: { 'process.readyHint': 'probing' } },
            probing: {
              invoke: {
                src: 'probeHealth',
                input: ({ context }) => ({ serviceId: context.serviceId, port: context.port ?? 0 }),
                onDone: [
                  {
                    guard: { type: 'isReady', params: ({ event }) => ({ result: event.output }) },
                    target: '#serviceLifecycle.live.running',
                    actions: assign({ healthLanguages: ({ event }) => (event.output.ready ? event.output.languages : undefined) }),
                  },
                  { target: 'waiting', actions: assign({ lastProbe: ({ event }) => notReadyReason(event.output) }) },
                ],
                onError: { target: 'waiting', actions: assign({ lastProbe: 'probe failed' }) },
              },
              after: { healthTimeout: { target: 'waiting', actions: assign({ lastProbe: 'timeout' }) } },
              on: { 'process.readyHint': {} },
            },
          },
          on: {
            'process.readyLine': { target: 'running', actions: assign({ probeSoon: true }) },
            'service.stop': stopThen('stopped'),
            'service.restart': stopThen('restart'),
            'supervisor.shutdown': stopThen('exit'),
          },
        },
        running: {
          entry: [
            assign({ warmupMs: ({ context }) => context.clock.now() - (context.startedAt ?? context.clock.now()), lastError: undefined, probeFailures: 0 }),
            ...enter('running'),
          ],
          initial: 'idle',
          states: {
            idle: { after: { probeDelay: 'probing' } },
            probing: {
              entry: assign({ probeSoon: false }),
              invoke: {
                src: 'probeHealth',
                input: ({ context }) => ({ serviceId: context.serviceId, port: context.port ?? 0 }),
                onDone: [
                  {
                    guard: { type: 'isReady', params: ({ event }) => ({ result: event.output }) },
                    target: 'idle',
                    actions: [
                      assign({ probeFailures: 0, healthLanguages: ({ context, event }) => (event.output.ready ? (event.output.languages ?? context.healthLanguages) : context.healthLanguages) }),
                      'announce',
                    ],
                  },
                  { guard: 'probeLimitReached', target: '#serviceLifecycle.live.killing', actions: probeFailed('health check failed') },
                  { target: 'idle', actions: probeFailed('health check failed') },
                ],
                onError: [
                  { guard: 'probeLimitReached', target: '#serviceLifecycle.live.killing', actions: probeFailed('probe failed') },
                  { target: 'idle', actions: probeFailed('probe failed') },
                ],
              },
              after: {
                healthTimeout: [
                  { guard: 'probeLimitReached', target: '#serviceLifecycle.live.killing', actions: probeFailed('timeout') },
                  { target: 'idle', actions: probeFailed('timeout') },
                ],
              },
            },
          },
          on: {
            'service.stop': stopThen('stopped'),
            'service.restart': stopThen('restart'),
            'supervisor.shutdown': stopThen('exit'),
          },
        },
        stopping: {
          entry: [...enter('stopping'), sendTo('process', { type: 'process.signal', signal: 'SIGTERM' } satisfies ProcessCommand)],
          // PROTOCOL.md §9.1 / issue: SIGTERM first, SIGKILL to the whole group once the stop timeout passes.
          after: { stopTimeout: { actions: sendTo('process', { type: 'process.signal', signal: 'SIGKILL' } satisfies ProcessCommand) } },
          on: {
            'process.exited': afterExit.map((t) => ({ ...t, actions: assign({ lastExit: ({ event }) => event.exit }) })),
            'process.spawnFailed': [...afterExit],
            'service.start': redirectStop('restart'),
            'service.restart': redirectStop('restart'),
            'service.stop': redirectStop('stopped'),
            'supervisor.shutdown': { actions: { type: 'setAfterStop', params: { next: 'exit' } } },
          },
        },
        killing: {
          // A hung process (§9.1: failed probes in a row) gets no grace period.
          entry: [
            assign({ lastError: ({ context }) => `${context.policy.probeFailureLimit} health checks failed in a row (last: ${context.lastProbe ?? 'unknown'}); killed` }),
            ...enter('failed'),
            sendTo('process', { type: 'process.signal', signal: 'SIGKILL' } satisfies ProcessCommand),
          ],
          after: { stopTimeout: '#serviceLifecycle.failed' },
          on: {
            'process.exited': { target: '#serviceLifecycle.failed', actions: assign({ lastExit: ({ event }) => event.exit }) },
            'process.spawnFailed': '#serviceLifecycle.failed',
            'service.stop': stopThen('stopped'),
            'supervisor.shutdown': stopThen('exit'),
          },
        },
      },
    },
    failed: {
      entry: [
        assign(({ context }) => {
          const intensity = withinIntensity(context.restarts, context.clock.now(), context.policy.maxRestarts, context.policy.withinMs);
          const attempt = intensity.history.length - 1;
          return {
            pid: undefined,
            restarts: intensity.history,
            intensityOk: intensity.ok,
            backoffMs: backoffDelayMs(attempt, { minMs: context.policy.minBackoffMs, maxMs: context.policy.maxBackoffMs }, context.random),
          };
        }),
        ...enter('failed'),
      ],
      always: [
        { guard: 'intensityOk', target: 'backoff' },
        {
          target: 'error',
          actions: assign({
            lastError: ({ context }) => `${context.lastError ?? 'failed'}; gave up after ${context.policy.maxRestarts} restarts within ${context.policy.withinMs} ms`,
          }),
        },
      ],
    },
    backoff: {
      entry: enter('backoff'),
      after: { backoffDelay: 'allocating' },
      on: { 'service.start': 'allocating', 'service.restart': 'allocating', 'service.stop': 'stopped', 'supervisor.shutdown': 'done' },
    },
    error: {
      entry: ['forgetProcess', ...enter('error')],
      on: {
        // An operator's start gives the service a fresh restart budget.
        'service.start': { target: 'allocating', actions: assign({ restarts: [] }) },
        'service.restart': { target: 'allocating', actions: assign({ restarts: [] }) },
        'service.stop': 'stopped',
        'supervisor.shutdown': 'done',
      },
    },
    done: {
      type: 'final',
      entry: ['forgetProcess', ...enter('stopped')],
    },
  },
});
