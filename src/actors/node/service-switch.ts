/**
 * Switching a running service to another directory (a new version) with no gap, blue-green: the
 * new version starts next to the old one under its own actor (`service:<id>@<version>`, its own
 * port) while the registry still names the old one; once it is `running`, the registry's entry of
 * the service points at it (one entry per id: its `baseUrl`, `version`, `pid`, `dir`), and only then
 * is the old one stopped. When the new one fails to start (a crash, a failed start, health never
 * ok), it is stopped and the old one goes on serving as if nothing happened.
 *
 * Only the registry's entry publishes `service.statusChanged`, so through the whole switch the bus
 * hears the service `running`, then once more `running` with the new version (reason
 * `version switched`): never stopped, never starting.
 */
import { sleep } from '../../kernel/clock.js';
import type { Clock } from '../../kernel/clock.js';
import { KernelError, TimeoutError } from '../../kernel/errors.js';
import { rejectWaiters, startVerdict, waitForEntry } from './service-entries.js';
import type { ServiceEntry } from './service-entries.js';

/** What the switch needs of the services manager. */
export interface ServiceSwitchSteps {
  /** Starts the actor of `entry` under the services supervisor (it starts its process at once). */
  spawn(entry: ServiceEntry): void;
  /** Stops the actor of `entry` for good; resolves once it is gone (its process has exited). */
  retire(entry: ServiceEntry): Promise<void>;
  /** Makes `next` the registry's entry of the service in place of `previous`, and announces it. */
  promote(previous: ServiceEntry, next: ServiceEntry): void;
  clock: Clock;
}

export interface ServiceSwitchBounds {
  /** Longest wait for the new version to be running, in ms (its own start-up bound comes first). */
  startBoundMs: number;
  /** Time the old version keeps running after the registry points at the new one, in ms. */
  drainMs: number;
}

const NEVER = new AbortController().signal;

/**
 * Replaces the running `current` by `next` (a fresh entry, not in the registry yet, whose actor
 * starts at once) with no gap. Resolves once `next` serves and `current` has stopped; rejects
 * (SERVICE_FAILED, SERVICE_START_TIMEOUT, ABORTED) with `current` still serving and `next` gone.
 */
export async function switchWithoutGap(current: ServiceEntry, next: ServiceEntry, steps: ServiceSwitchSteps, bounds: ServiceSwitchBounds, signal: AbortSignal): Promise<void> {
  // The supervisor may drop the new actor (the node stops): the wait ends with it.
  const onGone = () => rejectWaiters(next, new KernelError('SERVICES_NOT_RUNNING', 'the services supervisor stopped during a version switch', { retryable: true, details: { serviceId: next.id } }));
  next.onGone.push(onGone);
  steps.spawn(next);
  try {
    await waitForEntry(next, {
      decide: startVerdict(next.id, { mustLeaveRunning: false, failOn: 'crash' }),
      timeoutMs: bounds.startBoundMs,
      onTimeout: () => new TimeoutError('SERVICE_START_TIMEOUT', `the new version of "${next.id}" was not running within ${bounds.startBoundMs} ms`, { details: { serviceId: next.id } }),
      clock: steps.clock,
      signal,
    });
  } catch (err) {
    await steps.retire(next);
    throw err;
  } finally {
    const index = next.onGone.indexOf(onGone);
    if (index >= 0) next.onGone.splice(index, 1);
  }
  steps.promote(current, next);
  // A caller that read the old address just before the switch still reaches it for `drainMs`;
  // then SIGTERM lets the old process finish the requests it holds (§9.1 graceful stop). The
  // switch has happened by now, so a late abort no longer undoes it: the rest is bounded anyway.
  await sleep(steps.clock, bounds.drainMs, NEVER).catch(() => undefined);
  await steps.retire(current);
}
