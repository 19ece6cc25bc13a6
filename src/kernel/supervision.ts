/**
 * Pure decisions of the supervisor (OTP rules): which children a failure touches, whether a child is
 * restarted at all, and how long to wait before restarting it. Kept apart from the machine so each
 * rule is tested as a plain function.
 */
import type { AnyActorLogic, AnyActorRef } from 'xstate';
import { backoffDelayMs } from './backoff.js';

export type RestartStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/**
 * `permanent`: always restarted; `transient`: restarted only after a failure (an error, not a normal
 * completion); `temporary`: never restarted (jobs).
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** How a child ended: it reached its final state (`done`) or it errored (`error`). */
export type ExitKind = 'done' | 'error';

export interface ChildSpec {
  /** Actor id inside the parent, following the tree (`service:<id>`, `job:<job_id>`). */
  id: string;
  /** The XState logic to run: a machine (possibly a nested supervisor), `fromPromise`, `fromCallback`… */
  logic: AnyActorLogic;
  /** Input of each incarnation; a function is called anew at every (re)start. */
  input?: unknown;
  /** Only for cross-tree singletons listed in `SYSTEM_IDS` (src/kernel/system.ts). */
  systemId?: string;
  restart: RestartType;
  /** Restart intensity: at most this many restarts… */
  maxRestarts: number;
  /** …within this sliding window, in ms. Beyond it the supervisor fails and escalates. */
  withinMs: number;
  /** Delay before the first restart of a burst, in ms (0 = at once). */
  minBackoffMs: number;
  /** Cap of the exponential restart delay, in ms. */
  maxBackoffMs: number;
  /** Time a child gets to finish after `supervisor.shutdown` before it is stopped by force, in ms. */
  shutdownMs: number;
  /**
   * Called with every fresh actor of this child before it starts (for example to forward its
   * emitted events to the bus). The returned function is called when that actor goes away.
   */
  attach?: (ref: AnyActorRef) => (() => void) | void;
}

export type ChildSpecInput = Pick<ChildSpec, 'id' | 'logic'> & Partial<Omit<ChildSpec, 'id' | 'logic'>>;

export const DEFAULT_CHILD_SPEC = {
  restart: 'permanent',
  maxRestarts: 3,
  withinMs: 5_000,
  minBackoffMs: 100,
  maxBackoffMs: 30_000,
  shutdownMs: 5_000,
} as const satisfies Omit<ChildSpec, 'id' | 'logic'>;

export function childSpec(input: ChildSpecInput): ChildSpec {
  // One object literal rather than a spread: every spec gets the same hidden class. A spread copy
  // can get a class of its own (hundreds of bytes each), and a registry holds 10 000 specs.
  const d = DEFAULT_CHILD_SPEC;
  return {
    id: input.id,
    logic: input.logic,
    input: input.input,
    systemId: input.systemId,
    restart: input.restart ?? d.restart,
    maxRestarts: input.maxRestarts ?? d.maxRestarts,
    withinMs: input.withinMs ?? d.withinMs,
    minBackoffMs: input.minBackoffMs ?? d.minBackoffMs,
    maxBackoffMs: input.maxBackoffMs ?? d.maxBackoffMs,
    shutdownMs: input.shutdownMs ?? d.shutdownMs,
    attach: input.attach,
  };
}

/** Whether a child that ended this way is started again (OTP restart types). */
export function shouldRestart(restart: RestartType, exit: ExitKind): boolean {
  switch (restart) {
    case 'permanent':
      return true;
    case 'transient':
      return exit === 'error';
    case 'temporary':
      return false;
    default: {
      const never: never = restart;
      return never;
    }
  }
}

/**
 * The children a restart of `failedId` involves, in start order: only itself (`one_for_one`), every
 * child (`one_for_all`), or itself and every child started after it (`rest_for_one`).
 */
export function childrenToRestart(strategy: RestartStrategy, order: readonly string[], failedId: string): string[] {
  const index = order.indexOf(failedId);
  if (index < 0) return [];
  switch (strategy) {
    case 'one_for_one':
      return [failedId];
    case 'one_for_all':
      return [...order];
    case 'rest_for_one':
      return order.slice(index);
    default: {
      const never: never = strategy;
      return never;
    }
  }
}

/** Delay before restart number `attempt` (0-based within the intensity window) of `spec`. */
export function restartDelayMs(spec: ChildSpec, attempt: number, random: () => number = Math.random): number {
  return backoffDelayMs(attempt, { minMs: spec.minBackoffMs, maxMs: spec.maxBackoffMs }, random);
}

/** Input (or computed input) of a new incarnation. */
export function resolveChildInput(spec: ChildSpec): unknown {
  return typeof spec.input === 'function' ? (spec.input as () => unknown)() : spec.input;
}
