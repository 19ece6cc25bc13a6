/** The hub's defaults (`HubOptions`, src/cli/hub-options.ts), without zod and the hub: `linguamesh hub --help` shows them. */
import type { HubOptions } from './hub-options.js';

export const DEFAULT_HUB_OPTIONS = {
  host: '0.0.0.0',
  port: 5000,
  rescanIntervalMs: 10_000,
  adoptAfterMs: 2_000,
  closeTimeoutMs: 5_000,
} satisfies Omit<HubOptions, 'storageDir'>;
