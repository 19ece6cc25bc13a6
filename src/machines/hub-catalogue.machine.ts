/**
 * The hub's catalogue actor: scans the package storage at start, again every
 * `rescanIntervalMs`, and on demand (`catalogue.rescan`, sent when a request names a package the
 * last scan did not see, e.g. one published a moment ago). Requests that arrive during a scan are
 * coalesced into one more scan after it, so a burst of unknown names costs at most two scans. A
 * failed scan keeps the previous result. The scan itself is injected (`provide({ actors })`).
 */
import { assign, emit, fromPromise, setup } from 'xstate';
import { ActorNotProvidedError } from '../kernel/errors.js';
import type { HubStorageScan } from '../kernel/ports/hub-storage.port.js';

export interface HubCatalogueInput {
  /** Period of the background rescans, in ms. */
  rescanIntervalMs: number;
}

export interface HubCatalogueContext {
  rescanIntervalMs: number;
  /** Result of the last successful scan. */
  scan: HubStorageScan;
  /** Completed scans, successful or not: callers wait for this to pass a mark. */
  scans: number;
  /** A rescan was asked for during the running scan. */
  rescanPending: boolean;
  lastError?: string;
}

export type HubCatalogueEvent = { type: 'catalogue.rescan' } | { type: 'supervisor.shutdown' };
export type HubCatalogueEmitted = { type: 'catalogue.scanned'; scans: number; ok: boolean };

export const hubCatalogueMachine = setup({
  types: {} as { context: HubCatalogueContext; events: HubCatalogueEvent; input: HubCatalogueInput; emitted: HubCatalogueEmitted },
  actors: {
    scan: fromPromise<HubStorageScan>(async () => {
      throw new ActorNotProvidedError('scan');
    }),
  },
  delays: {
    rescanInterval: ({ context }) => context.rescanIntervalMs,
  },
  guards: {
    rescanPending: ({ context }) => context.rescanPending,
  },
}).createMachine({
  id: 'hubCatalogue',
  context: ({ input }) => ({ rescanIntervalMs: input.rescanIntervalMs, scan: { packages: [], models: [], stamps: {} }, scans: 0, rescanPending: false }),
  initial: 'scanning',
  on: { 'supervisor.shutdown': '.stopped' },
  states: {
    scanning: {
      entry: assign({ rescanPending: false }),
      on: { 'catalogue.rescan': { actions: assign({ rescanPending: true }) } },
      invoke: {
        src: 'scan',
        onDone: {
          target: 'scanned',
          actions: [
            assign(({ context, event }) => ({ scan: event.output, scans: context.scans + 1, lastError: undefined })),
            emit(({ context }) => ({ type: 'catalogue.scanned' as const, scans: context.scans, ok: true })),
          ],
        },
        onError: {
          target: 'scanned',
          actions: [
            assign(({ context, event }) => ({ scans: context.scans + 1, lastError: event.error instanceof Error ? event.error.message : String(event.error) })),
            emit(({ context }) => ({ type: 'catalogue.scanned' as const, scans: context.scans, ok: false })),
          ],
        },
      },
    },
    scanned: {
      always: [{ guard: 'rescanPending', target: 'scanning' }, { target: 'idle' }],
    },
    idle: {
      after: { rescanInterval: 'scanning' },
      on: { 'catalogue.rescan': 'scanning' },
    },
    stopped: { type: 'final' },
  },
});
