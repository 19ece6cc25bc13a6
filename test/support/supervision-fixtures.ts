/**
 * Small actors for supervisor tests: a worker that can be told to crash, finish, or ignore the
 * shutdown request, and that records its start and stop in a shared log.
 */
import { createActor, fromCallback, setup } from 'xstate';
import type { AnyActorRef } from 'xstate';
import { FakeClock } from '../../src/kernel/clock.js';
import { supervisorMachine } from '../../src/kernel/supervisor.js';
import type { SupervisorEmitted, SupervisorInput } from '../../src/kernel/supervisor.js';

export interface WorkerInput {
  name: string;
  log: string[];
  /** true: ignores `supervisor.shutdown` (must be stopped by force). */
  stubborn?: boolean;
  /** Time it takes to finish after a shutdown request, in ms. */
  shutdownDelayMs?: number;
}

export const workerMachine = setup({
  types: {} as {
    context: WorkerInput;
    input: WorkerInput;
    events: { type: 'crash' } | { type: 'finish' } | { type: 'supervisor.shutdown' };
  },
  actors: {
    lifecycle: fromCallback<{ type: 'noop' }, { name: string; log: string[] }>(({ input }) => {
      input.log.push(`start:${input.name}`);
      return () => input.log.push(`stop:${input.name}`);
    }),
  },
  delays: { shutdownDelay: ({ context }) => context.shutdownDelayMs ?? 0 },
}).createMachine({
  id: 'worker',
  context: ({ input }) => input,
  invoke: { src: 'lifecycle', input: ({ context }) => ({ name: context.name, log: context.log }) },
  initial: 'working',
  states: {
    working: {
      on: {
        crash: {
          actions: ({ context }) => {
            throw new Error(`${context.name} crashed`);
          },
        },
        finish: 'done',
        'supervisor.shutdown': [{ guard: ({ context }) => context.stubborn === true }, { target: 'shuttingDown' }],
      },
    },
    shuttingDown: {
      entry: ({ context }) => context.log.push(`shutdown:${context.name}`),
      after: { shutdownDelay: 'done' },
    },
    done: { type: 'final' },
  },
});

export function bootSupervisor(input: Omit<SupervisorInput, 'clock'>, clock = new FakeClock()) {
  const emitted: SupervisorEmitted[] = [];
  const errors: unknown[] = [];
  const actor = createActor(supervisorMachine, { input: { random: () => 0, ...input, clock }, clock });
  actor.on('*', (event) => emitted.push(event));
  actor.subscribe({ error: (err) => errors.push(err) });
  actor.start();
  const child = (id: string): AnyActorRef | undefined => actor.getSnapshot().context.live[id]?.ref;
  return { actor, clock, emitted, errors, child };
}
