/**
 * The node's package files (PROTOCOL.md §10.9): `services/<id>/<version>/` directories, the
 * `services/<id>/current` pointer (a symbolic link replaced by rename, or `current.json` where
 * links are unavailable), partial downloads, staging directories and the switch journal. Each
 * method is atomic on disk: a crash leaves the state before or after it, never between.
 */

export interface InstalledService {
  serviceId: string;
  /** Installed versions (any order). */
  versions: string[];
  /** The version `current` names, when it names an installed one. */
  current?: string;
}

/**
 * Written before `current` is switched and removed once the new version runs or the switch is
 * undone: finding one at start means the node died mid-switch, and `previous` is made current again.
 */
export interface SwitchJournal {
  previous?: string;
  next: string;
}

export interface PackageRecovery {
  /** Staging directories of interrupted unpacks, removed. */
  removedStaging: string[];
  /** Services whose interrupted switch was undone, with the version now current. */
  reverted: Array<{ serviceId: string; current?: string }>;
  /** Partial downloads kept for resuming. */
  partials: string[];
}

export interface PackageStorePort {
  /** The services directory (free-space checks look there). */
  readonly servicesDir: string;
  /** Cleans up after a crash: removes staging directories and undoes journaled switches. */
  recover(signal: AbortSignal): Promise<PackageRecovery>;
  listInstalled(signal: AbortSignal): Promise<InstalledService[]>;
  currentVersion(serviceId: string, signal: AbortSignal): Promise<string | undefined>;
  hasVersion(serviceId: string, version: string, signal: AbortSignal): Promise<boolean>;
  /** The partial download of a package (stable across restarts, so a download can resume). */
  downloadPath(serviceId: string, version: string, sha256: string): string;
  /** Removes the download of `serviceId@version` (any sha256); missing is fine. */
  discardDownloads(serviceId: string, version: string, signal: AbortSignal): Promise<void>;
  /** A fresh empty staging directory on the file system of the services directory. */
  createStaging(serviceId: string, version: string, signal: AbortSignal): Promise<string>;
  /** A file of a staging directory, at most `maxBytes`; undefined when absent. */
  readStagedFile(stagingDir: string, relativePath: string, maxBytes: number, signal: AbortSignal): Promise<Buffer | undefined>;
  discardStaging(stagingDir: string, signal: AbortSignal): Promise<void>;
  /** Renames a staging directory to `services/<id>/<version>/`. */
  commit(stagingDir: string, serviceId: string, version: string, signal: AbortSignal): Promise<void>;
  /** Points `current` at `version` atomically, or removes it (undefined). */
  switchCurrent(serviceId: string, version: string | undefined, signal: AbortSignal): Promise<void>;
  /** Writes (atomically) or removes (undefined) the switch journal of a service. */
  writeJournal(serviceId: string, journal: SwitchJournal | undefined, signal: AbortSignal): Promise<void>;
  /** Removes `services/<id>/<version>/`; the service directory too when nothing is left in it. */
  removeVersion(serviceId: string, version: string, signal: AbortSignal): Promise<void>;
}
