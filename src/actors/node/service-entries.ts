/**
 * The services manager's record of one service: what discovery found, the snapshot the rest of the
 * node reads (ServiceRegistryPort), the live actor, and the callers waiting for a state. Kept apart
 * from the manager so that the bookkeeping (snapshots from lifecycle views, waiting with bounds)
 * reads on its own.
 */
import type { AnyActorRef } from 'xstate';
import type { Clock } from '../../kernel/clock.js';
import { AbortedError, KernelError } from '../../kernel/errors.js';
import type { KernelErrorLike } from '../../kernel/errors.js';
import type { DiscoveredService } from '../../kernel/ports/service-directory.port.js';
import type { ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import type { ServiceLifecycleView } from '../../machines/service-lifecycle.machine.js';
import { normalizeServiceLanguages, DEFAULT_STARTUP_TIMEOUT_MS } from '../../protocol/service-json.schema.js';
import type { ServiceLanguages } from '../../protocol/service-json.schema.js';
import { samePairSet, sameLanguageSet } from '../../protocol/language.js';
import { serviceBaseUrl } from './service.actor.js';

interface Waiter {
  onSnapshot(snapshot: ServiceSnapshot): void;
  onRemoved(error: KernelErrorLike): void;
}

export interface ServiceEntry {
  readonly id: string;
  /**
   * Id of this entry's actor under the `services` supervisor: `service:<id>`, or
   * `service:<id>@<version>` for an actor that took over from another one without a gap.
   */
  readonly childId: string;
  found: DiscoveredService;
  snapshot: ServiceSnapshot;
  /** Start automatically: at boot when enabled, and whenever its actor is created anew. */
  wantRunning: boolean;
  ref: AnyActorRef | undefined;
  /** Called when the current actor goes away (stopped for good or replaced). */
  onGone: Array<() => void>;
  waiters: Set<Waiter>;
}

const EMPTY_LANGUAGES: ServiceLanguages = { asr: [], tts: [], voices: {}, nmtPairs: [], semantic: [] };

/** Supervisor child id of a service's actor (ARCHITECTURE.md: `service:<id>`), with the version when it replaces another one. */
export function serviceChildId(serviceId: string, version?: string): string {
  return version === undefined ? `service:${serviceId}` : `service:${serviceId}@${version}`;
}

/** The version a discovered service runs: its service.json's, else the one its directory names. */
export function versionOf(found: DiscoveredService): string | undefined {
  return (found.result.ok ? found.result.manifest.version : undefined) ?? found.version;
}

/** A fresh entry, before any actor: `stopped`, or `error` when its service.json is unusable. */
export function createEntry(found: DiscoveredService, enabled: boolean, childId = serviceChildId(found.id)): ServiceEntry {
  const version = versionOf(found);
  const base = { id: found.id, dir: found.dir, enabled, ...(version !== undefined ? { version } : {}) };
  const snapshot: ServiceSnapshot = found.result.ok
    ? {
        ...base,
        type: found.result.manifest.type,
        device: found.result.manifest.device,
        state: 'stopped',
        languages: found.result.manifest.languages,
        ttsEndpoint: found.result.manifest.ttsEndpoint,
        startupTimeoutMs: found.result.manifest.startupTimeoutMs,
      }
    : {
        ...base,
        type: found.result.type ?? 'unknown',
        device: 'gpu',
        state: 'error',
        lastError: found.result.error,
        languages: EMPTY_LANGUAGES,
        ttsEndpoint: '/tts',
        startupTimeoutMs: DEFAULT_STARTUP_TIMEOUT_MS,
      };
  return { id: found.id, childId, found, snapshot, wantRunning: enabled && found.result.ok, ref: undefined, onGone: [], waiters: new Set() };
}

export function sameLanguages(a: ServiceLanguages, b: ServiceLanguages): boolean {
  return (
    sameLanguageSet(a.asr, b.asr) &&
    sameLanguageSet(a.tts, b.tts) &&
    sameLanguageSet(a.semantic, b.semantic) &&
    samePairSet(a.nmtPairs, b.nmtPairs) &&
    JSON.stringify(a.voices) === JSON.stringify(b.voices)
  );
}

/** The registry snapshot after a lifecycle view (§3.3: languages from the ready health answer win). */
export function snapshotFromView(entry: ServiceEntry, view: ServiceLifecycleView): ServiceSnapshot {
  const previous = entry.snapshot;
  const declared = entry.found.result.ok ? entry.found.result.manifest.languages : EMPTY_LANGUAGES;
  const languages = view.healthLanguages ? normalizeServiceLanguages(previous.type, view.healthLanguages) : declared;
  const reachable = view.port !== undefined && (view.state === 'starting' || view.state === 'running');
  const { lastError: _e, baseUrl: _b, warmupMs: _w, pid: _p, ...rest } = previous;
  return {
    ...rest,
    state: view.state,
    languages,
    ...(view.lastError !== undefined ? { lastError: view.lastError } : {}),
    ...(reachable ? { baseUrl: serviceBaseUrl(view.port!) } : {}),
    ...(view.warmupMs !== undefined ? { warmupMs: view.warmupMs } : {}),
    ...(view.pid !== undefined ? { pid: view.pid } : {}),
  };
}

/** Hands the callers waiting on `from` over to `to` (the entry that replaces it), and tells them its snapshot. */
export function moveWaiters(from: ServiceEntry, to: ServiceEntry): void {
  for (const waiter of from.waiters) to.waiters.add(waiter);
  from.waiters.clear();
  notifyWaiters(to);
}

/** Tells the waiters of `entry` about its new snapshot. */
export function notifyWaiters(entry: ServiceEntry): void {
  for (const waiter of [...entry.waiters]) waiter.onSnapshot(entry.snapshot);
}

export function rejectWaiters(entry: ServiceEntry, error: KernelErrorLike): void {
  for (const waiter of [...entry.waiters]) waiter.onRemoved(error);
}

/** What a waiter makes of a snapshot: keep waiting, done, or failed. */
export type Verdict = undefined | 'done' | KernelErrorLike;

export interface StartVerdictOptions {
  /** A restart: a `running` seen before the start began (the old run) does not count. */
  mustLeaveRunning: boolean;
  /**
   * `error`: only the end state fails the wait (an operator's start rides out automatic restarts).
   * `crash`: the first crash or failed start fails it too (an activation: a new version that crashes
   * at start is rolled back, not restarted until its budget runs out).
   */
  failOn: 'error' | 'crash';
}

/** Resolves on `running`; fails once the start began and the service ended in a failure (see `failOn`). */
export function startVerdict(serviceId: string, options: StartVerdictOptions): (snapshot: ServiceSnapshot) => Verdict {
  let began = false;
  const failures = new Set<ServiceSnapshot['state']>(options.failOn === 'crash' ? ['error', 'failed', 'backoff'] : ['error']);
  return (snapshot) => {
    if (snapshot.state === 'running' && (began || !options.mustLeaveRunning)) return 'done';
    if (failures.has(snapshot.state)) {
      if (!began) return undefined;
      return new KernelError('SERVICE_FAILED', `service "${serviceId}" did not start: ${snapshot.lastError ?? 'unknown error'}`, { details: { serviceId, lastError: snapshot.lastError } });
    }
    if (snapshot.state !== 'running') began = true;
    return undefined;
  };
}

/**
 * Waits until `decide` settles on a snapshot of `entry` (checked at once, then at every change),
 * at most `timeoutMs` on `clock`; rejects with `onTimeout()` past it and with ABORTED on `signal`.
 */
export function waitForEntry(
  entry: ServiceEntry,
  options: { decide: (snapshot: ServiceSnapshot) => Verdict; timeoutMs: number; onTimeout: () => KernelErrorLike; clock: Clock; signal: AbortSignal },
): Promise<ServiceSnapshot> {
  const { decide, clock, signal } = options;
  return new Promise<ServiceSnapshot>((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortedError('wait for service aborted'));
      return;
    }
    const finish = (settle: () => void) => {
      entry.waiters.delete(waiter);
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      settle();
    };
    const waiter: Waiter = {
      onSnapshot(snapshot) {
        const verdict = decide(snapshot);
        if (verdict === 'done') finish(() => resolve(snapshot));
        else if (verdict !== undefined) finish(() => reject(verdict));
      },
      onRemoved(error) {
        finish(() => reject(error));
      },
    };
    const onAbort = () => finish(() => reject(new AbortedError('wait for service aborted')));
    const timer = clock.setTimeout(() => finish(() => reject(options.onTimeout())), options.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    entry.waiters.add(waiter);
    waiter.onSnapshot(entry.snapshot);
  });
}

export function serviceNotFound(id: string): KernelError {
  return new KernelError('SERVICE_NOT_FOUND', `no service "${id}" on this node`, { details: { serviceId: id } });
}
