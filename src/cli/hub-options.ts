/**
 * The hub's options (`HubOptions`): their zod shape, which the role configuration builds on
 * (src/cli/role-config.schema.ts), and their resolution over `DEFAULT_HUB_OPTIONS`, apart from the
 * hub itself (src/cli/start-hub.ts) so that loading a configuration does not load the hub.
 */
import { z } from 'zod';
import { ConfigError } from '../kernel/errors.js';
import { DEFAULT_HUB_OPTIONS } from './start-hub.defaults.js';

export interface HubOptions {
  /** Interface to listen on. Default `0.0.0.0`: nodes on other machines download from the hub. */
  host: string;
  /** TCP port (PROTOCOL.md §0.5 `hub.port`); 0 picks a free one. */
  port: number;
  /** Package storage root (`<storage>/services/<id>/<version>.zip`, `<storage>/models/…`). */
  storageDir: string;
  /** Period of the background storage rescans, in ms. */
  rescanIntervalMs: number;
  /** Age a zip without sidecar must reach before the hub adopts it, in ms. */
  adoptAfterMs: number;
  /** Time in-flight downloads get at stop before their sockets are closed, in ms. */
  closeTimeoutMs: number;
}

/** The fields of `HubOptions` as zod types (the role configuration builds on it: src/cli/role-config.schema.ts). */
export const HubOptionsShape = {
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  storageDir: z.string().min(1),
  rescanIntervalMs: z.number().int().positive(),
  adoptAfterMs: z.number().int().nonnegative(),
  closeTimeoutMs: z.number().int().nonnegative(),
};

const HubOptionsSchema = z.object(HubOptionsShape);

/** Options merged over `DEFAULT_HUB_OPTIONS` and validated; throws INVALID_CONFIG naming the fields. Other keys are ignored. */
export function resolveHubOptions(options: Partial<HubOptions> & Pick<HubOptions, 'storageDir'>): HubOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const parsed = HubOptionsSchema.safeParse({ ...DEFAULT_HUB_OPTIONS, ...defined });
  if (!parsed.success) throw new ConfigError(`invalid hub options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
