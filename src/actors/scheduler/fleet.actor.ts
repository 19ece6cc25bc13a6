/**
 * The `fleet` child of a scheduler that shares its fleet (system id none; a plain child of the
 * root): on the injected clock it reads the live instances every `refreshMs` (so that the nodes of
 * an instance whose lease ran out stop being dispatched to) and resynchronizes the whole view every
 * `resyncMs` (expired records, missed announcements).
 */
import { fromCallback } from 'xstate';
import type { Clock, TimerId } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import type { FleetView } from './fleet-view.js';

export interface FleetActorInput {
  view: FleetView;
  clock: Clock;
  logger: Logger;
  /** Period of the instance list refresh, in ms. */
  refreshMs: number;
  /** Period of the full resync, in ms. */
  resyncMs: number;
}

const fleetActor = fromCallback<{ type: 'supervisor.shutdown' }, FleetActorInput>(({ input }) => {
  const { view, clock, logger } = input;
  let refreshTimer: TimerId | undefined;
  let resyncTimer: TimerId | undefined;
  let stopped = false;
  const refresh = () => {
    refreshTimer = undefined;
    view.refreshInstances().catch((err: unknown) => logger.debug({ err }, 'fleet: could not read the instances'));
    if (!stopped) refreshTimer = clock.setTimeout(refresh, input.refreshMs);
  };
  const resync = () => {
    resyncTimer = undefined;
    if (view.storeUp()) view.resync().catch((err: unknown) => logger.debug({ err }, 'fleet: resync failed'));
    if (!stopped) resyncTimer = clock.setTimeout(resync, input.resyncMs);
  };
  refreshTimer = clock.setTimeout(refresh, input.refreshMs);
  resyncTimer = clock.setTimeout(resync, input.resyncMs);
  return () => {
    stopped = true;
    clock.clearTimeout(refreshTimer);
    clock.clearTimeout(resyncTimer);
  };
});

export function fleetChildSpec(input: FleetActorInput): ChildSpecInput {
  return { id: 'fleet', logic: fleetActor, input, restart: 'permanent', shutdownMs: 0 };
}
