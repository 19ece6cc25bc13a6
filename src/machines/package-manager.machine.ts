/**
 * The lifecycle of the node's `packages` child (ARCHITECTURE.md supervision tree): at start it
 * repairs what a crash left (staging directories, half-done switches), then serves install and
 * uninstall requests until `supervisor.shutdown`, when it cancels what runs and reaches its final
 * state. The operations themselves are run by the package manager; this machine only orders start
 * and stop. A failed recovery is reported and does not stop the node.
 */
import { emit, fromPromise, setup } from 'xstate';
import { ActorNotProvidedError, toKernelError } from '../kernel/errors.js';

export type PackageManagerEvent = { type: 'supervisor.shutdown' };
export type PackageManagerEmitted = { type: 'packages.recovered' } | { type: 'packages.recoveryFailed'; code: string; message: string };

export const packageManagerMachine = setup({
  types: {} as { events: PackageManagerEvent; emitted: PackageManagerEmitted },
  actors: {
    recover: fromPromise<void>(async () => {
      throw new ActorNotProvidedError('recover');
    }),
    close: fromPromise<void>(async () => {
      throw new ActorNotProvidedError('close');
    }),
  },
}).createMachine({
  id: 'packages',
  initial: 'recovering',
  states: {
    recovering: {
      on: { 'supervisor.shutdown': 'closing' },
      invoke: {
        src: 'recover',
        onDone: { target: 'running', actions: emit({ type: 'packages.recovered' }) },
        onError: {
          target: 'running',
          actions: emit(({ event }) => {
            const error = toKernelError(event.error);
            return { type: 'packages.recoveryFailed' as const, code: error.code, message: error.message };
          }),
        },
      },
    },
    running: {
      on: { 'supervisor.shutdown': 'closing' },
    },
    closing: {
      invoke: { src: 'close', onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});
