/**
 * How the package manager puts an installed version live and takes it down (PROTOCOL.md §10.9
 * step 7). The node's hot-plug runtime (services supervisor) implements it: it owns the service
 * processes; the package manager owns the files and the `current` pointer. Every method rejects
 * only with KernelErrors.
 */
export interface ServiceActivationPort {
  /**
   * Makes `version` of `serviceId` the running one, from `services/<id>/<version>/` (which
   * `current` already names when this is called). Stops any other running version of the service
   * in whatever order gives no gap. Resolves once the service is `running` (healthy); rejects
   * when it ends in `error` instead (failed start, crash, health never ok within its
   * `startup_timeout_ms`), or when `signal` aborts.
   */
  activate(serviceId: string, version: string, signal: AbortSignal): Promise<void>;
  /** Stops the service, whatever version runs; resolves once stopped (at once when it does not run). */
  deactivate(serviceId: string, signal: AbortSignal): Promise<void>;
  /** Versions of the service that running jobs use now: they must not be removed. */
  inUseVersions(serviceId: string): ReadonlySet<string>;
}
