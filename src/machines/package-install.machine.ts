/**
 * One package operation on a node: install a version from the hub, or switch to an installed one
 * (PROTOCOL.md §10.9). Pure: every step is an invoked placeholder the package manager provides.
 *
 *   resolving → checkingDisk → downloading ⇄ waitingToRetry → verifying → unpacking → committing
 *   → switching → activating → confirming → succeeded
 *
 * Nothing touches `services/<id>/` before `committing`, and the old version stays active until
 * `switching`. A failure before the switch goes through `discarding` (staging directory and, once
 * the download is complete, the downloaded file are removed; an incomplete download is kept so a
 * later attempt resumes it). A failure from `switching` on, including a new version that does not
 * become ready within `activationTimeoutMs`, goes through `rollingBack`: the previous version is
 * made current and started again, and a version this run brought in is removed.
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import { backoffDelayMs } from '../kernel/backoff.js';
import { ActorNotProvidedError, KernelError, toKernelError } from '../kernel/errors.js';
import type { KernelErrorLike } from '../kernel/errors.js';

export type InstallMode = 'install' | 'use';

/** What `resolving` decided: the concrete version and where the service stands now. */
export interface InstallPlan {
  serviceId: string;
  version: string;
  /** Size and sha256 of the zip on the hub (0 / '' when the version is already installed). */
  sizeBytes: number;
  sha256: string;
  /** The version `current` names before this operation. */
  previous?: string;
  /** `services/<id>/<version>/` already exists: no download. */
  installed: boolean;
}

export interface InstallDownload {
  file: string;
  sizeBytes: number;
  sha256: string;
}

export type InstallOutcome = 'installed' | 'switched' | 'unchanged';

export type InstallPhase = 'resolve' | 'download' | 'verify' | 'unpack' | 'switch' | 'start' | 'rollback';

export interface InstallRetryPolicy {
  /** Download attempts after the first one that failed with a retryable error. */
  maxRetries: number;
  /** Backoff before the first retry, in ms. */
  minMs: number;
  /** Cap of the backoff, in ms. */
  maxMs: number;
}

export interface PackageInstallInput {
  serviceId: string;
  /** A SemVer version, `latest` or undefined (= `latest_version`). */
  version?: string;
  mode: InstallMode;
  retry: InstallRetryPolicy;
  /** Bound for the new version to become ready, in ms; past it the install is rolled back. */
  activationTimeoutMs: number;
  /** Jitter source of the retry backoff, in [0, 1). */
  random?: () => number;
}

export type PackageInstallOutput =
  | { ok: true; outcome: InstallOutcome; version: string; previous?: string }
  | { ok: false; error: KernelErrorLike; version?: string; previous?: string };

export interface PackageInstallContext {
  serviceId: string;
  requestedVersion?: string;
  mode: InstallMode;
  retry: InstallRetryPolicy;
  activationTimeoutMs: number;
  random: () => number;
  plan?: InstallPlan;
  download?: InstallDownload;
  stagingDir?: string;
  /** This run created `services/<id>/<version>/` (so a rollback removes it). */
  committed: boolean;
  /** Failed download attempts so far. */
  attempt: number;
  error?: KernelErrorLike;
}

export type PackageInstallEvent = { type: 'install.cancel' };
export type PackageInstallEmitted = { type: 'install.phase'; phase: InstallPhase };

const unprovided = (name: string) => async (): Promise<never> => {
  throw new ActorNotProvidedError(name);
};

function aborted(): KernelError {
  return new KernelError('ABORTED', 'the package operation was cancelled');
}

function planOf(context: PackageInstallContext): InstallPlan {
  if (!context.plan) throw new KernelError('INTERNAL_ERROR', 'package operation step reached without a plan');
  return context.plan;
}

export const packageInstallMachine = setup({
  types: {} as {
    context: PackageInstallContext;
    events: PackageInstallEvent;
    input: PackageInstallInput;
    output: PackageInstallOutput;
    emitted: PackageInstallEmitted;
  },
  actors: {
    resolve: fromPromise<InstallPlan, { serviceId: string; version?: string; mode: InstallMode }>(unprovided('resolve')),
    checkDisk: fromPromise<void, { plan: InstallPlan }>(unprovided('checkDisk')),
    download: fromPromise<InstallDownload, { plan: InstallPlan; attempt: number }>(unprovided('download')),
    verify: fromPromise<void, { plan: InstallPlan; download: InstallDownload }>(unprovided('verify')),
    unpack: fromPromise<string, { plan: InstallPlan; download: InstallDownload }>(unprovided('unpack')),
    commit: fromPromise<void, { plan: InstallPlan; stagingDir: string }>(unprovided('commit')),
    switchCurrent: fromPromise<void, { plan: InstallPlan }>(unprovided('switchCurrent')),
    activate: fromPromise<void, { plan: InstallPlan }>(unprovided('activate')),
    confirm: fromPromise<void, { plan: InstallPlan }>(unprovided('confirm')),
    rollback: fromPromise<void, { plan: InstallPlan; removeVersion: boolean }>(unprovided('rollback')),
    discard: fromPromise<void, { plan?: InstallPlan; stagingDir?: string; discardDownload: boolean }>(unprovided('discard')),
  },
  actions: {
    failWith: assign((_, params: { error: unknown }) => ({ error: toKernelError(params.error) })),
  },
  guards: {
    unchanged: (_, params: { plan: InstallPlan }) => params.plan.version === params.plan.previous && params.plan.installed,
    alreadyInstalled: (_, params: { plan: InstallPlan }) => params.plan.installed,
    mayRetry: ({ context }, params: { error: unknown }) => toKernelError(params.error).retryable && context.attempt < context.retry.maxRetries,
  },
  delays: {
    retryDelay: ({ context }) => backoffDelayMs(context.attempt - 1, { minMs: context.retry.minMs, maxMs: context.retry.maxMs }, context.random),
    activationTimeout: ({ context }) => context.activationTimeoutMs,
  },
}).createMachine({
  id: 'packageInstall',
  context: ({ input }) => ({
    serviceId: input.serviceId,
    requestedVersion: input.version,
    mode: input.mode,
    retry: input.retry,
    activationTimeoutMs: input.activationTimeoutMs,
    random: input.random ?? Math.random,
    committed: false,
    attempt: 0,
  }),
  initial: 'resolving',
  // The machine's output is the output of the final state it reached (xstate passes it in the
  // done-state event).
  output: ({ event }) => (event as unknown as { output: PackageInstallOutput }).output,
  states: {
    resolving: {
      entry: emit({ type: 'install.phase', phase: 'resolve' }),
      on: { 'install.cancel': { target: 'failed', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'resolve',
        input: ({ context }) => ({ serviceId: context.serviceId, version: context.requestedVersion, mode: context.mode }),
        onDone: [
          { guard: { type: 'unchanged', params: ({ event }) => ({ plan: event.output }) }, target: 'unchanged', actions: assign({ plan: ({ event }) => event.output }) },
          { guard: { type: 'alreadyInstalled', params: ({ event }) => ({ plan: event.output }) }, target: 'switching', actions: assign({ plan: ({ event }) => event.output }) },
          { target: 'checkingDisk', actions: assign({ plan: ({ event }) => event.output }) },
        ],
        onError: { target: 'failed', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    checkingDisk: {
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'checkDisk',
        input: ({ context }) => ({ plan: planOf(context) }),
        onDone: 'downloading',
        onError: { target: 'discarding', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    downloading: {
      entry: emit({ type: 'install.phase', phase: 'download' }),
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'download',
        input: ({ context }) => ({ plan: planOf(context), attempt: context.attempt }),
        onDone: { target: 'verifying', actions: assign({ download: ({ event }) => event.output }) },
        onError: [
          { guard: { type: 'mayRetry', params: ({ event }) => ({ error: event.error }) }, target: 'waitingToRetry', actions: assign({ attempt: ({ context }) => context.attempt + 1 }) },
          {
            target: 'discarding',
            actions: assign({
              error: ({ event, context }) => {
                const error = toKernelError(event.error);
                if (!error.retryable) return error;
                // Retries exhausted (PROTOCOL.md §11 node-local code).
                return new KernelError('HUB_UNREACHABLE', `the hub could not deliver ${context.serviceId} after ${context.attempt + 1} attempts: ${error.message}`, {
                  cause: error,
                  details: { lastCode: error.code, attempts: context.attempt + 1 },
                });
              },
            }),
          },
        ],
      },
    },
    waitingToRetry: {
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      after: { retryDelay: 'downloading' },
    },
    verifying: {
      entry: emit({ type: 'install.phase', phase: 'verify' }),
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'verify',
        input: ({ context }) => ({ plan: planOf(context), download: context.download as InstallDownload }),
        onDone: 'unpacking',
        onError: { target: 'discarding', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    unpacking: {
      entry: emit({ type: 'install.phase', phase: 'unpack' }),
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'unpack',
        input: ({ context }) => ({ plan: planOf(context), download: context.download as InstallDownload }),
        onDone: { target: 'committing', actions: assign({ stagingDir: ({ event }) => event.output }) },
        onError: { target: 'discarding', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    committing: {
      entry: emit({ type: 'install.phase', phase: 'switch' }),
      on: { 'install.cancel': { target: 'discarding', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'commit',
        input: ({ context }) => ({ plan: planOf(context), stagingDir: context.stagingDir as string }),
        onDone: { target: 'switching', actions: assign({ committed: true, stagingDir: undefined }) },
        onError: { target: 'discarding', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    switching: {
      entry: emit({ type: 'install.phase', phase: 'switch' }),
      on: { 'install.cancel': { target: 'rollingBack', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'switchCurrent',
        input: ({ context }) => ({ plan: planOf(context) }),
        onDone: 'activating',
        onError: { target: 'rollingBack', actions: { type: 'failWith', params: ({ event }) => ({ error: event.error }) } },
      },
    },
    activating: {
      entry: emit({ type: 'install.phase', phase: 'start' }),
      on: { 'install.cancel': { target: 'rollingBack', actions: assign({ error: () => aborted() }) } },
      invoke: {
        src: 'activate',
        input: ({ context }) => ({ plan: planOf(context) }),
        onDone: 'confirming',
        onError: {
          target: 'rollingBack',
          actions: assign({
            error: ({ event, context }) => {
              const cause = toKernelError(event.error);
              return new KernelError('ACTIVATION_FAILED', `${context.serviceId}@${planOf(context).version} did not become ready: ${cause.message}`, { cause, details: { cause: cause.code } });
            },
          }),
        },
      },
      after: {
        activationTimeout: {
          target: 'rollingBack',
          actions: assign({
            error: ({ context }) =>
              new KernelError('ACTIVATION_FAILED', `${context.serviceId}@${planOf(context).version} was not ready within ${context.activationTimeoutMs} ms`, { details: { cause: 'ACTIVATION_TIMEOUT' } }),
          }),
        },
      },
    },
    confirming: {
      invoke: {
        src: 'confirm',
        input: ({ context }) => ({ plan: planOf(context) }),
        onDone: 'succeeded',
        onError: 'succeeded',
      },
    },
    rollingBack: {
      entry: emit({ type: 'install.phase', phase: 'rollback' }),
      invoke: {
        src: 'rollback',
        input: ({ context }) => ({ plan: planOf(context), removeVersion: context.committed }),
        onDone: 'failed',
        onError: {
          target: 'failed',
          actions: assign({
            error: ({ event, context }) =>
              new KernelError('ROLLBACK_FAILED', `rolling ${context.serviceId} back failed after: ${context.error?.message ?? 'an error'}`, { cause: event.error, details: { original: context.error?.code } }),
          }),
        },
      },
    },
    discarding: {
      invoke: {
        src: 'discard',
        input: ({ context }) => ({ plan: context.plan, stagingDir: context.stagingDir, discardDownload: context.download !== undefined }),
        onDone: 'failed',
        onError: 'failed',
      },
    },
    succeeded: {
      type: 'final',
      output: ({ context }) => {
        const plan = planOf(context);
        return { ok: true as const, outcome: context.mode === 'install' && context.committed ? ('installed' as const) : ('switched' as const), version: plan.version, ...(plan.previous !== undefined ? { previous: plan.previous } : {}) };
      },
    },
    unchanged: {
      type: 'final',
      output: ({ context }) => ({ ok: true as const, outcome: 'unchanged' as const, version: planOf(context).version, ...(context.plan?.previous !== undefined ? { previous: context.plan.previous } : {}) }),
    },
    failed: {
      type: 'final',
      output: ({ context }) => ({
        ok: false as const,
        error: context.error ?? new KernelError('INTERNAL_ERROR', 'package operation failed without an error'),
        ...(context.plan ? { version: context.plan.version } : {}),
        ...(context.plan?.previous !== undefined ? { previous: context.plan.previous } : {}),
      }),
    },
  },
});
