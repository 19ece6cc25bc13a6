/**
 * The supervisor: an XState v5 machine that spawns its children from child specs and restarts them
 * by OTP rules (ARCHITECTURE.md, "Supervisor"). XState has no supervision of its own; this is ours.
 *
 * - A child that ends (`xstate.done.actor.<id>`) or fails (`xstate.error.actor.<id>`) is restarted
 *   according to its restart type and the supervisor's strategy, after a capped exponential backoff
 *   with jitter, as long as it stays within its intensity (`maxRestarts` within `withinMs`).
 * - Past the intensity the supervisor itself fails: it errors, XState stops its children, and its
 *   parent receives `xstate.error.actor.<supervisor id>` (escalation).
 * - `supervisor.shutdown` stops the children one at a time in reverse start order, each within its
 *   `shutdownMs` (a child that ignores the request is stopped by force), then the supervisor reaches
 *   its final state, which its own parent sees as a normal completion.
 * - A restarted child is a fresh actor. Its old actor is fully stopped first: the new one is spawned
 *   in a later macrostep (an event sent to self), because XState defers the stop of a child to the
 *   end of the macrostep and a `systemId` would otherwise collide.
 */
import { assertEvent, setup } from 'xstate';
import type { ActorRefFrom, AnyActorLogic, AnyActorRef, EventObject } from 'xstate';
import { withinIntensity } from './backoff.js';
import type { Clock } from './clock.js';
import { SupervisorIntensityError } from './errors.js';
import { childSpec, childrenToRestart, resolveChildInput, restartDelayMs, shouldRestart } from './supervision.js';
import type { ChildSpec, ChildSpecInput, ExitKind, RestartStrategy } from './supervision.js';

export type { ChildSpec, ChildSpecInput, RestartStrategy, RestartType } from './supervision.js';
export { childSpec } from './supervision.js';

export interface SupervisorInput {
  /** Name used in logs, errors and emitted events (`services`, `jobs`, `root`). */
  id: string;
  strategy: RestartStrategy;
  /** Children started in this order at start-up; stopped in reverse order at shutdown. */
  children?: ChildSpecInput[];
  /** Source of time for the intensity window. Timers themselves follow the actor system's clock. */
  clock: Pick<Clock, 'now'>;
  /** Random source of the backoff jitter, in [0, 1). Injectable for tests. */
  random?: () => number;
}

interface Incarnation {
  ref: AnyActorRef;
  detach: (() => void) | undefined;
}

export interface SupervisorContext {
  id: string;
  strategy: RestartStrategy;
  clock: Pick<Clock, 'now'>;
  random: () => number;
  /** Child specs in start order. */
  specs: ChildSpec[];
  /** The live actor of each child, if it has one now. */
  live: Record<string, Incarnation>;
  /** Restart times of each child inside its intensity window. */
  history: Record<string, number[]>;
  /** Children asked to stop for good (`supervisor.terminateChild`): not restarted when they end. */
  terminating: string[];
  /** During shutdown: the children still to stop, in the order they will be stopped. */
  shutdownQueue: string[];
}

/** Request to stop gracefully; a child that does not handle it is stopped by force after `shutdownMs`. */
export type SupervisorShutdownEvent = { type: 'supervisor.shutdown' };

export type SupervisorEvent =
  | SupervisorShutdownEvent
  | { type: 'supervisor.startChild'; spec: ChildSpecInput }
  | { type: 'supervisor.terminateChild'; id: string }
  | { type: 'supervisor.restartChild'; id: string }
  | { type: 'supervisor.restartDue'; ids: string[] }
  | { type: 'supervisor.forceStop'; id: string }
  | { type: 'xstate.done.actor.*'; output?: unknown }
  | { type: 'xstate.error.actor.*'; error: unknown };

export type SupervisorEmitted =
  | { type: 'supervisor.childStarted'; supervisorId: string; childId: string; ref: AnyActorRef }
  | { type: 'supervisor.childExited'; supervisorId: string; childId: string; exit: ExitKind; error?: unknown }
  | { type: 'supervisor.childRestarting'; supervisorId: string; childId: string; attempt: number; delayMs: number }
  | { type: 'supervisor.childRemoved'; supervisorId: string; childId: string };

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';

function childIdOf(event: EventObject): string | undefined {
  if (event.type.startsWith(DONE_PREFIX)) return event.type.slice(DONE_PREFIX.length);
  if (event.type.startsWith(ERROR_PREFIX)) return event.type.slice(ERROR_PREFIX.length);
  return undefined;
}

function exitKindOf(event: EventObject): ExitKind {
  return event.type.startsWith(ERROR_PREFIX) ? 'error' : 'done';
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

/**
 * Stops whatever still runs under an actor that errored. XState stops a machine's children when it
 * fails on an unhandled child error, but not when one of its own actions throws, and a failed
 * callback actor never runs its cleanup: without this, a crashed child would leave its children
 * (HTTP calls, timers, OS processes) running. `xstate.stop` is the event XState itself uses to stop
 * an actor; sending it runs the same cleanup as a normal stop.
 */
export function reapDescendants(ref: AnyActorRef): void {
  const snapshot = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
  for (const child of Object.values(snapshot?.children ?? {})) {
    if (!child) continue;
    const status = (child.getSnapshot() as { status?: string } | undefined)?.status;
    if (status === 'active') child.send({ type: 'xstate.stop' } as never);
    else reapDescendants(child);
  }
}

function forceTimerId(childId: string): string {
  return `supervisor.force:${childId}`;
}

function restartTimerId(childId: string): string {
  return `supervisor.restart:${childId}`;
}

const supervisorSetup = setup({
  types: {} as {
    context: SupervisorContext;
    events: SupervisorEvent;
    input: SupervisorInput;
    emitted: SupervisorEmitted;
  },
});

type Enqueue = Parameters<Parameters<typeof supervisorSetup.enqueueActions>[0]>[0]['enqueue'];

/** Spawns a fresh actor for each id (in start order) that has a spec and no live actor. */
function enqueueSpawn(enqueue: Enqueue, context: SupervisorContext, ids: readonly string[]): void {
  for (const spec of context.specs) {
    if (!ids.includes(spec.id) || context.live[spec.id]) continue;
    enqueue.assign(({ context: ctx, spawn }) => {
      // The spawner's overloads only admit an explicit `id` for logic registered in setup(); children
      // here are dynamic, so the call is typed by hand.
      const spawnChild = spawn as unknown as (logic: AnyActorLogic, options: { id: string; input: unknown; systemId?: string }) => AnyActorRef;
      const ref = spawnChild(spec.logic, { id: spec.id, input: resolveChildInput(spec), ...(spec.systemId ? { systemId: spec.systemId } : {}) });
      // `attach` runs before XState starts the actor (spawned actors start at the end of the
      // macrostep), so a subscriber sees every event the actor emits.
      const detach = spec.attach?.(ref) ?? undefined;
      return { live: { ...ctx.live, [spec.id]: { ref, detach } } };
    });
    enqueue.emit(({ context: ctx }) => ({ type: 'supervisor.childStarted', supervisorId: ctx.id, childId: spec.id, ref: ctx.live[spec.id]!.ref }));
  }
}

/** Stops the live actors of `ids` at once, in reverse start order, without restarting them. */
function enqueueForceStop(enqueue: Enqueue, context: SupervisorContext, ids: readonly string[]): void {
  const order = context.specs.map((s) => s.id).filter((id) => ids.includes(id)).reverse();
  for (const id of order) {
    const incarnation = context.live[id];
    if (!incarnation) continue;
    enqueue.cancel(forceTimerId(id));
    enqueue.stopChild(incarnation.ref);
    enqueue(() => incarnation.detach?.());
    enqueue.assign(({ context: ctx }) => ({ live: without(ctx.live, id) }));
  }
}

/** Forgets a child for good: its spec, history and pending timers. */
function enqueueRemove(enqueue: Enqueue, id: string): void {
  enqueue.cancel(restartTimerId(id));
  enqueue.cancel(forceTimerId(id));
  enqueue.assign(({ context: ctx }) => ({
    specs: ctx.specs.filter((s) => s.id !== id),
    history: without(ctx.history, id),
    terminating: ctx.terminating.filter((t) => t !== id),
  }));
  enqueue.emit(({ context: ctx }) => ({ type: 'supervisor.childRemoved', supervisorId: ctx.id, childId: id }));
}

/** Graceful stop of one child while running: ask it to shut down, and arm the force-stop deadline. */
function enqueueGracefulStop(enqueue: Enqueue, context: SupervisorContext, id: string): void {
  const incarnation = context.live[id];
  const spec = context.specs.find((s) => s.id === id);
  if (!incarnation || !spec) return;
  if (spec.shutdownMs <= 0) {
    enqueueForceStop(enqueue, context, [id]);
    enqueueRemove(enqueue, id);
    return;
  }
  enqueue.sendTo(incarnation.ref, { type: 'supervisor.shutdown' });
  enqueue.raise({ type: 'supervisor.forceStop', id }, { id: forceTimerId(id), delay: spec.shutdownMs });
}

const handleExit = supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
  const childId = childIdOf(event);
  if (childId === undefined) return;
  const incarnation = context.live[childId];
  const exit = exitKindOf(event);
  const error = exit === 'error' ? (event as { error?: unknown }).error : undefined;
  if (incarnation) {
    if (exit === 'error') enqueue(() => reapDescendants(incarnation.ref));
    enqueue(() => incarnation.detach?.());
    // XState keeps an ended child in the snapshot's `children` until it is stopped: without this,
    // every temporary child ever run would stay there, and each spawn and stop copies that map.
    enqueue.stopChild(incarnation.ref);
    enqueue.assign(({ context: ctx }) => ({ live: without(ctx.live, childId) }));
  }
  enqueue.emit({ type: 'supervisor.childExited', supervisorId: context.id, childId, exit, ...(error !== undefined ? { error } : {}) });
  const spec = context.specs.find((s) => s.id === childId);
  if (!spec) return;
  if (context.terminating.includes(childId)) {
    enqueueRemove(enqueue, childId);
    return;
  }
  if (!shouldRestart(spec.restart, exit)) {
    enqueueRemove(enqueue, childId);
    return;
  }
  const now = context.clock.now();
  const intensity = withinIntensity(context.history[childId] ?? [], now, spec.maxRestarts, spec.withinMs);
  if (!intensity.ok) {
    enqueue(() => {
      // Throwing inside an action fails this actor: XState stops its children and relays
      // `xstate.error.actor.<id>` to the parent, which applies its own rules (escalation).
      throw new SupervisorIntensityError(context.id, childId, error);
    });
    return;
  }
  enqueue.assign(({ context: ctx }) => ({ history: { ...ctx.history, [childId]: intensity.history } }));
  const order = context.specs.map((s) => s.id);
  const group = childrenToRestart(context.strategy, order, childId);
  const siblings = group.filter((id) => id !== childId);
  enqueueForceStop(enqueue, { ...context, live: without(context.live, childId) }, siblings);
  const attempt = intensity.history.length - 1;
  const delayMs = restartDelayMs(spec, attempt, context.random);
  enqueue.emit({ type: 'supervisor.childRestarting', supervisorId: context.id, childId, attempt, delayMs });
  if (delayMs <= 0) {
    // A later macrostep, so that every stopped sibling is fully stopped before its successor.
    enqueue.sendTo(({ self }) => self, { type: 'supervisor.restartDue', ids: group });
  } else {
    enqueue.raise({ type: 'supervisor.restartDue', ids: group }, { id: restartTimerId(childId), delay: delayMs });
  }
});

const markStopped = supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
  const childId = childIdOf(event);
  if (childId === undefined) return;
  const incarnation = context.live[childId];
  if (incarnation) {
    if (exitKindOf(event) === 'error') enqueue(() => reapDescendants(incarnation.ref));
    enqueue(() => incarnation.detach?.());
  }
  enqueue.cancel(forceTimerId(childId));
  enqueue.assign(({ context: ctx }) => ({
    live: without(ctx.live, childId),
    shutdownQueue: ctx.shutdownQueue.filter((id) => id !== childId),
  }));
});

const stopNextInQueue = supervisorSetup.enqueueActions(({ enqueue, context }) => {
  // Children that already ended are skipped; children with no shutdown time are stopped at once.
  const queue = [...context.shutdownQueue];
  while (queue.length > 0) {
    const id = queue[0]!;
    const incarnation = context.live[id];
    const spec = context.specs.find((s) => s.id === id);
    if (!incarnation || !spec) {
      queue.shift();
      continue;
    }
    if (spec.shutdownMs <= 0) {
      enqueueForceStop(enqueue, context, [id]);
      queue.shift();
      continue;
    }
    enqueue.cancel(forceTimerId(id));
    enqueue.sendTo(incarnation.ref, { type: 'supervisor.shutdown' });
    enqueue.raise({ type: 'supervisor.forceStop', id }, { id: forceTimerId(id), delay: spec.shutdownMs });
    break;
  }
  if (queue.length !== context.shutdownQueue.length) enqueue.assign({ shutdownQueue: queue });
});

export const supervisorMachine = supervisorSetup.createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    id: input.id,
    strategy: input.strategy,
    clock: input.clock,
    random: input.random ?? Math.random,
    specs: (input.children ?? []).map(childSpec),
    live: {},
    history: {},
    terminating: [],
    shutdownQueue: [],
  }),
  entry: supervisorSetup.enqueueActions(({ enqueue, context }) => {
    enqueueSpawn(enqueue, context, context.specs.map((s) => s.id));
  }),
  initial: 'running',
  states: {
    running: {
      on: {
        'supervisor.startChild': {
          actions: supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
            assertEvent(event, 'supervisor.startChild');
            const spec = childSpec(event.spec);
            if (context.specs.some((s) => s.id === spec.id)) {
              // A child with this id exists: PROTOCOL-level duplicates are the caller's to reject;
              // here a second start of the same id is a no-op, so a retry is harmless.
              return;
            }
            enqueue.assign(({ context: ctx }) => ({ specs: [...ctx.specs, spec] }));
            enqueueSpawn(enqueue, { ...context, specs: [...context.specs, spec] }, [spec.id]);
          }),
        },
        'supervisor.terminateChild': {
          actions: supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
            assertEvent(event, 'supervisor.terminateChild');
            if (!context.specs.some((s) => s.id === event.id)) return;
            if (!context.live[event.id]) {
              enqueueRemove(enqueue, event.id);
              return;
            }
            enqueue.assign(({ context: ctx }) => ({ terminating: [...ctx.terminating, event.id] }));
            enqueueGracefulStop(enqueue, context, event.id);
          }),
        },
        'supervisor.restartChild': {
          actions: supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
            assertEvent(event, 'supervisor.restartChild');
            if (!context.specs.some((s) => s.id === event.id)) return;
            enqueue.cancel(restartTimerId(event.id));
            enqueueForceStop(enqueue, context, [event.id]);
            enqueue.sendTo(({ self }) => self, { type: 'supervisor.restartDue', ids: [event.id] });
          }),
        },
        'supervisor.restartDue': {
          actions: supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
            assertEvent(event, 'supervisor.restartDue');
            enqueueSpawn(enqueue, context, event.ids);
          }),
        },
        'supervisor.forceStop': {
          actions: supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
            assertEvent(event, 'supervisor.forceStop');
            if (!context.terminating.includes(event.id)) return;
            enqueueForceStop(enqueue, context, [event.id]);
            enqueueRemove(enqueue, event.id);
          }),
        },
        'xstate.done.actor.*': { actions: handleExit },
        'xstate.error.actor.*': { actions: handleExit },
        'supervisor.shutdown': { target: 'stopping' },
      },
    },
    stopping: {
      entry: [
        supervisorSetup.enqueueActions(({ enqueue, context }) => {
          for (const spec of context.specs) enqueue.cancel(restartTimerId(spec.id));
          const queue = context.specs.map((s) => s.id).filter((id) => context.live[id]).reverse();
          enqueue.assign({ shutdownQueue: queue });
        }),
        stopNextInQueue,
      ],
      always: { guard: ({ context }) => context.shutdownQueue.length === 0, target: 'stopped' },
      on: {
        'xstate.done.actor.*': { actions: [markStopped, stopNextInQueue] },
        'xstate.error.actor.*': { actions: [markStopped, stopNextInQueue] },
        'supervisor.forceStop': {
          actions: [
            supervisorSetup.enqueueActions(({ enqueue, context, event }) => {
              assertEvent(event, 'supervisor.forceStop');
              if (context.shutdownQueue[0] !== event.id) return;
              enqueueForceStop(enqueue, context, [event.id]);
              enqueue.assign(({ context: ctx }) => ({ shutdownQueue: ctx.shutdownQueue.slice(1) }));
            }),
            stopNextInQueue,
          ],
        },
      },
    },
    stopped: { type: 'final' },
  },
});

export type SupervisorRef = ActorRefFrom<typeof supervisorMachine>;

/** Child spec for a nested supervisor: it stops gracefully through its own ordered shutdown. */
export function supervisorChild(input: Omit<SupervisorInput, 'clock'> & { clock: Pick<Clock, 'now'> }, spec: Omit<ChildSpecInput, 'id' | 'logic' | 'input'> = {}): ChildSpecInput {
  return { shutdownMs: 30_000, ...spec, id: input.id, logic: supervisorMachine, input };
}

