/**
 * The services installed on this node's disk (PROTOCOL.md §9.7, §10.9 step 6): each
 * `services/<id>/<version>/` directory with a `service.json`, the `current` pointer of each id
 * (`services/<id>/current` symlink or `services/<id>/current.json`), and the extra development
 * directories named in the node's configuration.
 */
import type { ServiceManifest } from '../../protocol/service-json.schema.js';

export type DiscoveredManifest = { ok: true; manifest: ServiceManifest } | { ok: false; error: string; type?: string };

export interface DiscoveredService {
  /**
   * Service id: the directory name under `services/` for installed services (service.json must
   * agree), the service.json id for extra directories, or the directory name when it cannot be read.
   */
  id: string;
  /** Absolute directory the service runs from. */
  dir: string;
  source: 'installed' | 'extra';
  /** Version the `current` pointer names (installed services). */
  version?: string;
  /** The parsed service.json, or why it could not be used (shown as the service's `lastError`). */
  result: DiscoveredManifest;
}

export interface ServiceDirectoryScan {
  /** `<data dir>/services`; may not exist yet. */
  servicesRoot: string;
  /** Extra service directories (each holds a service.json), in configuration order. */
  extraDirs: readonly string[];
}

export interface ServiceDirectoryPort {
  /** Installed services (sorted by id), then the extra directories. Never rejects for one bad service. */
  scan(request: ServiceDirectoryScan, signal: AbortSignal): Promise<DiscoveredService[]>;
  /**
   * Makes `<version>` the active version of `<id>`, atomically (a new link or file renamed over the
   * old one). Rejects with `SERVICE_VERSION_NOT_FOUND` when `services/<id>/<version>/` is missing.
   */
  setCurrent(servicesRoot: string, id: string, version: string, signal: AbortSignal): Promise<void>;
}
