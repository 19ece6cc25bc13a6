/**
 * The scheduler API client's defaults, apart from the client itself
 * (src/adapters/scheduler-api-client.adapter.ts) so that `linguamesh status`'s flags can show them
 * without loading undici and the API schemas.
 */
import type { SchedulerApiClientOptions } from './scheduler-api-client.adapter.js';

export const DEFAULT_SCHEDULER_API_CLIENT_OPTIONS = { requestTimeoutMs: 10_000 } satisfies Partial<SchedulerApiClientOptions>;
