/**
 * The reference speech services (native/services/) as hub packages, for `linguamesh up`: each one
 * the hub does not have yet at its service.json version is built (`buildServiceDirectory`), packed
 * (`linguamesh pkg pack`) and published into the hub's storage (`linguamesh pkg publish`); a
 * version the hub already lists is left as it is (published versions are immutable).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { publishPackage } from '../adapters/hub-publish.adapter.js';
import { packServiceDirectory } from '../adapters/package-pack.adapter.js';
import { buildServiceDirectory } from '../adapters/service-bundle.adapter.js';
import type { CatalogueView } from '../actors/hub/catalogue.actor.js';
import { AbortedError } from '../kernel/errors.js';
import { REFERENCE_SERVICE_IDS } from './start-all.defaults.js';

/** Where the reference services' sources are. */
export const REFERENCE_SERVICES_DIR = resolve(import.meta.dirname, '../../native/services');

export { REFERENCE_SERVICE_IDS };

export interface ReferencePackage {
  serviceId: string;
  version: string;
}

/** What happened to one package while it was published. */
export type PublishStep = 'present' | 'building' | 'packing' | 'publishing' | 'published';

/** The id and version a reference service's service.json names. */
export async function referencePackage(serviceId: string, sourcesDir = REFERENCE_SERVICES_DIR): Promise<ReferencePackage> {
  const json = JSON.parse(await readFile(join(sourcesDir, serviceId, 'service.json'), 'utf8')) as { id: string; version: string };
  return { serviceId: json.id, version: json.version };
}

export interface PublishReferenceOptions {
  serviceIds: readonly string[];
  /** The hub's storage root. */
  storageDir: string;
  /** Where service directories and zips are built. */
  buildDir: string;
  /** The running hub's catalogue: what it has, and the rescan after publishing. */
  catalogue: CatalogueView;
  onStep: (pkg: ReferencePackage, step: PublishStep) => void;
  signal: AbortSignal;
  sourcesDir?: string;
}

/** Publishes what the hub lacks; resolves with every package (published now or before). */
export async function publishReferencePackages(options: PublishReferenceOptions): Promise<ReferencePackage[]> {
  const sourcesDir = options.sourcesDir ?? REFERENCE_SERVICES_DIR;
  const catalogue = await options.catalogue.refresh(options.signal);
  const packages = await Promise.all(options.serviceIds.map((id) => referencePackage(id, sourcesDir)));
  const check = () => {
    if (options.signal.aborted) throw new AbortedError('stopped while publishing the reference packages');
  };
  // One after another: esbuild and zip are CPU work, and the box may have two cores.
  for (const pkg of packages) {
    check();
    const have = catalogue.services.get(pkg.serviceId)?.versions.some((v) => v.version === pkg.version) ?? false;
    if (have) {
      options.onStep(pkg, 'present');
      continue;
    }
    options.onStep(pkg, 'building');
    const built = await buildServiceDirectory(join(sourcesDir, pkg.serviceId), join(options.buildDir, pkg.serviceId));
    check();
    options.onStep(pkg, 'packing');
    const packed = await packServiceDirectory({ sourceDir: built.outDir, outFile: join(options.buildDir, `${pkg.serviceId}-${pkg.version}.zip`) });
    check();
    options.onStep(pkg, 'publishing');
    await publishPackage({ storageDir: options.storageDir, zipPath: packed.file });
    options.onStep(pkg, 'published');
  }
  await options.catalogue.refresh(options.signal);
  return packages;
}
