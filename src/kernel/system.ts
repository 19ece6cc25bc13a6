/**
 * Boots one role's actor tree (or several roles under one root) from a supervisor spec, and owns
 * the things only the root may do: observe root errors so that no actor error can crash the
 * process, turn SIGINT/SIGTERM into the ordered shutdown, and feed the inspection stream to the
 * Stately inspector or a JSONL recorder (ARCHITECTURE.md, "System").
 */
import { createActor } from 'xstate';
import type { ActorSystem, AnyActorRef, InspectionEvent } from 'xstate';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { toKernelError } from './errors.js';
import type { KernelErrorLike } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { reapDescendants, supervisorMachine } from './supervisor.js';
import type { SupervisorInput, SupervisorRef } from './supervisor.js';

/**
 * System ids of the cross-tree singletons, the only actors registered by `systemId` (STYLE.md §4).
 * Everything else is reached through the refs of the parent that owns it.
 */
export const SYSTEM_IDS = {
  link: 'link',
  heartbeat: 'heartbeat',
  audio: 'audio',
  dispatcher: 'dispatcher',
  registry: 'registry',
  packages: 'packages',
} as const;

export type SystemId = (typeof SYSTEM_IDS)[keyof typeof SYSTEM_IDS];

/** The typed view of the actor system: singletons by system id. */
export type LinguameshActorSystem = ActorSystem<{ actors: Partial<Record<SystemId, AnyActorRef>> }>;

export type InspectionObserver = (event: InspectionEvent) => void;

export interface SystemOptions {
  /** The root supervisor: its id, strategy and children. */
  root: Omit<SupervisorInput, 'clock'>;
  logger?: Logger;
  clock?: Clock;
  /**
   * `process`: SIGINT/SIGTERM start the ordered shutdown (the CLI). `none`: no handlers, for hosts
   * that embed linguamesh and own the process.
   */
  signals?: 'process' | 'none';
  /** Receivers of the inspection stream (Stately inspector, JSONL recorder). */
  inspectors?: InspectionObserver[];
  /** Bound of the whole ordered shutdown, in ms; past it the tree is stopped by force. Default 60 000. */
  shutdownTimeoutMs?: number;
}

export type SystemExit = { reason: 'shutdown' } | { reason: 'failed'; error: KernelErrorLike } | { reason: 'forced' };

export interface SystemHandle {
  root: SupervisorRef;
  system: LinguameshActorSystem;
  /** Settles once the root has stopped, for whatever reason. Never rejects. */
  done: Promise<SystemExit>;
  /** Ordered shutdown; idempotent (a second call returns the first call's promise). */
  stop(): Promise<SystemExit>;
}

export function bootSystem(options: SystemOptions): SystemHandle {
  const log = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const inspectors = options.inspectors ?? [];
  const inspect: InspectionObserver | undefined =
    inspectors.length === 0
      ? undefined
      : (event) => {
          for (const observer of inspectors) {
            try {
              observer(event);
            } catch (err) {
              log.warn({ err }, 'inspection observer threw');
            }
          }
        };

  const root = createActor(supervisorMachine, {
    input: { ...options.root, clock },
    clock,
    systemId: 'root',
    ...(inspect ? { inspect } : {}),
  });

  let settle!: (exit: SystemExit) => void;
  const done = new Promise<SystemExit>((resolve) => {
    settle = resolve;
  });
  let settled = false;
  const finish = (exit: SystemExit) => {
    if (settled) return;
    settled = true;
    removeSignalHandlers();
    settle(exit);
  };

  // The error observer is what keeps an actor failure from crashing the process: with none, XState
  // rethrows the error in a new macrotask (STYLE.md §4).
  root.subscribe({
    complete: () => finish({ reason: 'shutdown' }),
    error: (err) => {
      const error = toKernelError(err);
      log.fatal({ err: error, code: error.code }, 'root supervisor failed; the tree has stopped');
      reapDescendants(root);
      finish({ reason: 'failed', error });
    },
  });

  let stopping: Promise<SystemExit> | undefined;
  const stop = (): Promise<SystemExit> => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (settled) return done;
      log.info({ root: options.root.id }, 'ordered shutdown started');
      root.send({ type: 'supervisor.shutdown' });
      const timeoutMs = options.shutdownTimeoutMs ?? 60_000;
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const forced = new Promise<SystemExit>((resolve) => {
        timer = clock.setTimeout(() => resolve({ reason: 'forced' }), timeoutMs);
      });
      const exit = await Promise.race([done, forced]);
      clock.clearTimeout(timer);
      if (exit.reason === 'forced') {
        log.error({ timeoutMs }, 'ordered shutdown overran its bound; stopping the tree by force');
        root.stop();
        finish(exit);
      } else {
        log.info({ reason: exit.reason }, 'ordered shutdown finished');
      }
      return exit;
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'signal received');
    void stop();
  };
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if ((options.signals ?? 'none') === 'process') {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  root.start();
  return { root, system: root.system as LinguameshActorSystem, done, stop };
}
