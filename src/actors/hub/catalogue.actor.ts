/**
 * The hub's `catalogue` child: the catalogue machine provided with a storage scan, and the view
 * the HTTP routes read through. The view follows whichever incarnation of the child is live (the
 * supervisor may restart it) and builds the catalogue once per completed scan.
 */
import { fromPromise } from 'xstate';
import type { ActorRefFrom } from 'xstate';
import { AbortedError } from '../../kernel/errors.js';
import type { Bus } from '../../kernel/bus.js';
import type { Logger } from '../../kernel/logger.js';
import { ABSENT_STAMP } from '../../kernel/ports/hub-storage.port.js';
import type { HubStoragePort } from '../../kernel/ports/hub-storage.port.js';
import type { ChildSpecInput } from '../../kernel/supervision.js';
import { hubCatalogueMachine } from '../../machines/hub-catalogue.machine.js';
import { buildCatalogue, EMPTY_CATALOGUE } from './catalogue.js';
import type { Catalogue } from './catalogue.js';

export interface CatalogueView {
  /** The catalogue of the last completed scan. */
  current(): Catalogue;
  /**
   * Asks for a rescan and resolves with a catalogue from a scan that started after this call
   * (so a package published before the call is in it). Concurrent calls share scans.
   */
  refresh(signal: AbortSignal): Promise<Catalogue>;
  /** Resolves once the first scan has completed. */
  ready(signal: AbortSignal): Promise<Catalogue>;
  /**
   * The catalogue, rescanned first when one of the directories named by `keys` (stamp keys:
   * `services`, `service:<id>`, `models`, `model:<id>`) changed since the last scan: one `stat`
   * per key instead of a scan, so a package published a moment ago is served at once.
   */
  fresh(keys: readonly string[], signal: AbortSignal): Promise<Catalogue>;
}

export interface HubCatalogueOptions {
  /** Period of the background rescans, in ms. */
  rescanIntervalMs: number;
}

type CatalogueRef = ActorRefFrom<typeof hubCatalogueMachine>;

/** `bus`: where `hub.catalogueScanned` is published after each scan. */
export function hubCatalogueChild(storage: HubStoragePort, options: HubCatalogueOptions, logger: Logger, bus?: Bus): { spec: ChildSpecInput; view: CatalogueView } {
  const log = logger.child({ actor: 'catalogue' });
  let ref: CatalogueRef | undefined;
  let cache: Catalogue = EMPTY_CATALOGUE;

  const logic = hubCatalogueMachine.provide({
    actors: {
      scan: fromPromise(async ({ signal }) => {
        const started = performance.now();
        const scan = await storage.scan(signal);
        log.debug({ packages: scan.packages.length, models: scan.models.length, ms: Math.round(performance.now() - started) }, 'storage scanned');
        return scan;
      }),
    },
  });

  const current = (): Catalogue => {
    const snapshot = ref?.getSnapshot();
    if (!snapshot) return cache;
    if (snapshot.context.scans !== cache.generation) cache = buildCatalogue(snapshot.context.scan, snapshot.context.scans);
    return cache;
  };

  const refresh = (signal: AbortSignal): Promise<Catalogue> => {
    const live = ref;
    if (!live || live.getSnapshot().status !== 'active') return Promise.resolve(current());
    const snapshot = live.getSnapshot();
    // A scan already running may have listed the storage before the caller's package arrived:
    // wait for the one after it.
    const target = snapshot.context.scans + (snapshot.matches('scanning') ? 2 : 1);
    live.send({ type: 'catalogue.rescan' });
    return waitForScans(live, target, signal);
  };

  const ready = (signal: AbortSignal): Promise<Catalogue> => {
    const live = ref;
    if (!live || live.getSnapshot().status !== 'active') return Promise.resolve(current());
    return waitForScans(live, 1, signal);
  };

  const waitForScans = (live: CatalogueRef, target: number, signal: AbortSignal): Promise<Catalogue> => {
    if (live.getSnapshot().context.scans >= target) return Promise.resolve(current());
    return new Promise<Catalogue>((resolve, reject) => {
      const finish = () => {
        sub.unsubscribe();
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        finish();
        reject(new AbortedError('catalogue refresh aborted'));
      };
      const sub = live.subscribe({
        next: (s) => {
          if (s.context.scans >= target || s.status !== 'active') {
            finish();
            resolve(current());
          }
        },
        error: () => {
          finish();
          resolve(current());
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  const spec: ChildSpecInput = {
    id: 'catalogue',
    logic,
    input: { rescanIntervalMs: options.rescanIntervalMs },
    restart: 'permanent',
    shutdownMs: 1_000,
    attach: (actor) => {
      const mine = actor as CatalogueRef;
      ref = mine;
      const sub = mine.on('catalogue.scanned', (event) => {
        if (!event.ok) log.warn({ error: mine.getSnapshot().context.lastError }, 'storage scan failed; keeping the previous catalogue');
        if (bus) {
          const catalogue = current();
          bus.publish({ type: 'hub.catalogueScanned', ok: event.ok, scans: event.scans, services: catalogue.services.size, models: catalogue.models.size });
        }
      });
      return () => {
        sub.unsubscribe();
        if (ref === mine) ref = undefined;
      };
    },
  };
  const fresh = async (keys: readonly string[], signal: AbortSignal): Promise<Catalogue> => {
    const catalogue = current();
    const now = await Promise.all(keys.map((key) => storage.stamp(key, signal)));
    const stale = keys.some((key, i) => (catalogue.stamps[key] ?? ABSENT_STAMP) !== now[i]);
    return stale ? refresh(signal) : catalogue;
  };

  return { spec, view: { current, refresh, ready, fresh } };
}
