/** The hub's defaults (`HubOptions`, src/cli/start-hub.ts), without the hub: `linguamesh hub --help` shows them. */
import type { HubOptions } from './start-hub.js';

export const DEFAULT_HUB_OPTIONS = {
  host: '0.0.0.0',
  port: 5000,
  rescanIntervalMs: 10_000,
  adoptAfterMs: 2_000,
  closeTimeoutMs: 5_000,
} satisfies Omit<HubOptions, 'storageDir'>;
