/**
 * Health probes of local speech services (PROTOCOL.md §9.1): one `GET <endpoint>` on loopback,
 * judged by the §9.1 rules. A probe that is not ready is an answer, not an error: `probe` rejects
 * only when its signal aborts.
 */
import type { ServiceLanguagesInput } from '../../protocol/service-json.schema.js';

export interface HealthProbeRequest {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Path of the health endpoint, e.g. `/health`. */
  endpoint: string;
  /** HTTP method, normally `GET`. */
  method: string;
}

export type HealthProbeResult =
  | {
      ready: true;
      /** The ready answer's `languages` object (§9.7 [ext]), when it had one. */
      languages?: ServiceLanguagesInput;
    }
  | {
      ready: false;
      /** Why not: `refused`, `HTTP 503`, `status not_ready`, `body not ready`, … */
      reason: string;
    };

export interface ServiceHealthPort {
  /** The deadline comes through `signal` (the caller owns the timeout, on its clock). */
  probe(request: HealthProbeRequest, signal: AbortSignal): Promise<HealthProbeResult>;
  /** Releases pooled connections. Idempotent. */
  close(): Promise<void>;
}
