/**
 * Options of a node process (`startNode`, `linguamesh node`): the PROTOCOL.md §0.5 settings in
 * camelCase with their units, merged over `DEFAULT_NODE_OPTIONS` and validated once with zod.
 */
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../kernel/errors.js';
import { DEFAULT_HEARTBEAT_OPTIONS } from '../machines/heartbeat.defaults.js';
import { DEFAULT_LINK_OPTIONS } from '../machines/link.defaults.js';
import { DEFAULT_MAX_CONCURRENT_JOBS } from '../protocol/node-link.schema.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/validation.js';

export interface NodeSettings {
  /**
   * The schedulers' node link URLs in failover order: at least one, no duplicates, each normalized
   * by `nodeLinkUrl`. The node uses one at a time and moves to the next when its link fails (see
   * src/machines/link.machine.ts).
   */
  schedulerUrls: string[];
  /** The node's state directory (persisted node_id, …). */
  dataDir: string;
  /** Host of the node's control endpoint. Default `127.0.0.1` (loopback only). */
  httpHost: string;
  /** Port of the node's control endpoint (`/health`, `/status`, `/metrics`); 0 picks a free one. Default 5020. */
  httpPort: number;
  /** `max_concurrent_jobs` announced at registration (§2.2). Default 4. */
  maxConcurrentJobs: number;
  /** `allow_cpu_services` (§3.3): running CPU services make their type ready. Default false. */
  allowCpuServices: boolean;
  /** `accept_public_jobs` (§2.2). Default true. */
  acceptPublicJobs: boolean;
  /** Token sent as `Authorization: Bearer` (§1.2). Never logged. */
  authToken?: string;
  /** `heartbeat_interval_ms`, until an ack gives another, in ms. */
  heartbeatIntervalMs: number;
  /** `heartbeat_debounce_ms`, in ms. */
  heartbeatDebounceMs: number;
  /** `ws_ping_interval_ms`, in ms. */
  wsPingIntervalMs: number;
  /** `link_dead_ms`, in ms. */
  linkDeadMs: number;
  /** `reconnect_min_ms`, in ms. */
  reconnectMinMs: number;
  /** `reconnect_max_ms`, in ms. */
  reconnectMaxMs: number;
  /** Extra random reconnect wait as a fraction of the base (0.2 = up to +20 %). */
  reconnectJitter: number;
  /** `max_frame_bytes`, in bytes. */
  maxFrameBytes: number;
  /** Longest wait for one resource sample, in ms. */
  sampleTimeoutMs: number;
  /** `node_register.version`. Default: the package version. */
  version: string;
}

/** This package's version, sent as `node_register.version`. */
export const PACKAGE_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export const DEFAULT_NODE_OPTIONS = {
  dataDir: join(homedir(), '.linguamesh', 'node'),
  httpHost: '127.0.0.1',
  httpPort: 5020,
  maxConcurrentJobs: DEFAULT_MAX_CONCURRENT_JOBS,
  allowCpuServices: false,
  acceptPublicJobs: true,
  heartbeatIntervalMs: DEFAULT_HEARTBEAT_OPTIONS.intervalMs,
  heartbeatDebounceMs: DEFAULT_HEARTBEAT_OPTIONS.debounceMs,
  wsPingIntervalMs: DEFAULT_LINK_OPTIONS.wsPingIntervalMs,
  linkDeadMs: DEFAULT_LINK_OPTIONS.linkDeadMs,
  reconnectMinMs: DEFAULT_LINK_OPTIONS.reconnectMinMs,
  reconnectMaxMs: DEFAULT_LINK_OPTIONS.reconnectMaxMs,
  reconnectJitter: DEFAULT_LINK_OPTIONS.reconnectJitter,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  sampleTimeoutMs: 2_000,
  version: PACKAGE_VERSION,
} as const satisfies Omit<NodeSettings, 'schedulerUrls'>;

const positiveMs = z.number().int().positive();

/** The fields of `NodeSettings` as zod types (the role configuration builds on it: src/cli/role-config.schema.ts). */
export const NodeSettingsShape = {
  schedulerUrl: z.union([z.string().min(1), z.array(z.string().min(1)).min(1, 'at least one scheduler URL is needed')]),
  dataDir: z.string().min(1),
  httpHost: z.string().min(1),
  httpPort: z.number().int().min(0).max(65_535),
  maxConcurrentJobs: z.number().int().min(1),
  allowCpuServices: z.boolean(),
  acceptPublicJobs: z.boolean(),
  authToken: z.string().min(1).optional(),
  heartbeatIntervalMs: positiveMs,
  heartbeatDebounceMs: z.number().int().nonnegative(),
  wsPingIntervalMs: positiveMs,
  linkDeadMs: positiveMs,
  reconnectMinMs: z.number().int().nonnegative(),
  reconnectMaxMs: z.number().int().nonnegative(),
  reconnectJitter: z.number().min(0).max(10),
  maxFrameBytes: z.number().int().positive(),
  sampleTimeoutMs: positiveMs,
  version: z.string().min(1),
};

const NodeSettingsSchema = z
  .object(NodeSettingsShape)
  .refine((o) => o.reconnectMaxMs >= o.reconnectMinMs, { message: 'reconnectMaxMs must be at least reconnectMinMs', path: ['reconnectMaxMs'] })
  .refine((o) => o.linkDeadMs > o.wsPingIntervalMs, { message: 'linkDeadMs must exceed wsPingIntervalMs, or a healthy link is declared dead', path: ['linkDeadMs'] });

/** The node link URL of a scheduler address: `ws(s)://host:port`, `/ws/node` appended when the URL has no path, `http(s)` read as `ws(s)`. */
export function nodeLinkUrl(scheduler: string): string {
  let url: URL;
  try {
    url = new URL(scheduler);
  } catch (err) {
    throw new ConfigError(`scheduler URL "${scheduler}" is not a URL`, { cause: err });
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new ConfigError(`scheduler URL "${scheduler}" must be ws(s):// or http(s)://`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws/node';
  return url.toString();
}

/** Settings as given: the scheduler URL(s) and any others (the rest come from `DEFAULT_NODE_OPTIONS`). */
export type NodeSettingsInput = Partial<Omit<NodeSettings, 'schedulerUrls'>> & {
  /** One scheduler address, or several in failover order (see `NodeSettings.schedulerUrls`, `nodeLinkUrl`). */
  schedulerUrl: string | readonly string[];
};

/** Scheduler addresses → their node link URLs, first occurrence kept (`ws://h:1` and `ws://h:1/ws/node` are one). */
export function schedulerUrlList(addresses: string | readonly string[]): string[] {
  // A comma-separated string is a list too (a config file or LINGUAMESH_NODE_SCHEDULER_URL may give one).
  const list = (typeof addresses === 'string' ? [addresses] : addresses).flatMap((a) => a.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  return [...new Set(list.map(nodeLinkUrl))];
}

/** Settings merged over the defaults and validated; throws ConfigError naming the fields. Other keys of `input` are ignored. */
export function resolveNodeSettings(input: NodeSettingsInput): NodeSettings {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = NodeSettingsSchema.safeParse({ ...DEFAULT_NODE_OPTIONS, ...defined });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid node options: ${detail}`, { details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } });
  }
  const { schedulerUrl, ...rest } = parsed.data;
  return { ...rest, schedulerUrls: schedulerUrlList(schedulerUrl) };
}
