/**
 * The session client's defaults, apart from the client itself (src/adapters/session-client-ws.adapter.ts)
 * so that `linguamesh translate`'s flags can show them without loading ws.
 */
import type { SessionClientOptions } from './session-client-ws.adapter.js';

export const DEFAULT_SESSION_CLIENT_OPTIONS = { connectTimeoutMs: 10_000, resultTimeoutMs: 120_000, closeTimeoutMs: 2_000 } satisfies Partial<SessionClientOptions>;
