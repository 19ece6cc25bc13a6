/**
 * A listening server (HTTP endpoint, …) as a supervised child: `opening` runs the provided `open`,
 * `open` holds the server, and `supervisor.shutdown` closes it gracefully before the final state.
 * A failure to open is left unhandled on purpose: the child fails, and its supervisor applies its
 * restart rules. Should the child be stopped by force instead, the `hold` actor's cleanup still
 * closes the server.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import { ActorNotProvidedError } from '../kernel/errors.js';

/** What `open` resolves: anything that can be closed (idempotently). */
export interface ClosableServer {
  close(): Promise<void>;
}

export interface ServerContext {
  server: ClosableServer | undefined;
}

export const serverMachine = setup({
  types: {} as { context: ServerContext; events: { type: 'supervisor.shutdown' } },
  actors: {
    open: fromPromise<ClosableServer>(async () => {
      throw new ActorNotProvidedError('open');
    }),
    hold: fromCallback<{ type: 'none' }, { server: ClosableServer }>(({ input }) => () => {
      void input.server.close();
    }),
    close: fromPromise<void, { server: ClosableServer }>(({ input }) => input.server.close()),
  },
}).createMachine({
  id: 'server',
  context: { server: undefined },
  initial: 'opening',
  states: {
    opening: {
      invoke: { src: 'open', onDone: { target: 'open', actions: assign({ server: ({ event }) => event.output }) } },
      // Nothing to close yet. Stopping aborts the `open` still in flight: a provided `open` closes
      // what it opened when its signal is aborted.
      on: { 'supervisor.shutdown': 'closed' },
    },
    open: {
      invoke: { src: 'hold', input: ({ context }) => ({ server: context.server! }) },
      on: { 'supervisor.shutdown': 'closing' },
    },
    closing: {
      invoke: { src: 'close', input: ({ context }) => ({ server: context.server! }), onDone: 'closed', onError: 'closed' },
    },
    closed: { type: 'final' },
  },
});
