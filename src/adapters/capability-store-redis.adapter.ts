/**
 * The capability store in Redis, shared by every scheduler instance of a fleet.
 *
 * Keys (a hash tag per node, so that a node's keys share one cluster slot and its scripts stay
 * single-slot):
 * - `lm:{node:<node_id>}:node`: hash with `registration` (fencing token), `owner` (instance id),
 *   `base` (JSON of what a registration fixes), `status`, `reason`, `pools`, `load`, `lastHeartbeatAt`;
 * - `lm:{node:<node_id>}:caps`: JSON of the normalized capabilities;
 * - `lm:{fleet}:nodes`: sorted set of node ids scored by the expiry time of their keys, for listing;
 * - `lm:{fleet}:changes` (with `announce`): a capped stream of the ids of nodes whose registration,
 *   status or pools changed, which every instance of a fleet follows.
 * Every write refreshes a `ttlMs` expiry on the node's keys, so the records of a crashed instance
 * disappear on their own; an instance that stops removes its records (`removeOwnedBy`).
 *
 * Fencing: the owner that registered a node last wins; every update and removal compares the
 * record's registration in its Lua script, so an older owner never writes over a newer one.
 * Updates are batched (capability-store-redis-writes.adapter.ts): all those of one turn of the
 * event loop, index refreshes and announcements included, are one script call, one round trip.
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { CapabilityStorePort, NodeCapabilities, PoolVariant, StoredNode, StoredNodePatch } from '../kernel/ports/capability-store.port.js';
import type { RemoteNode } from '../kernel/ports/fleet.port.js';
import { createUpdateBatcher } from './capability-store-redis-writes.adapter.js';
import { CapabilityByTypeSchema, HardwareSchema, InstalledServiceSchema, NmtPairSchema, NodeStatusSchema } from '../protocol/index.js';

export interface RedisCapabilityStoreOptions {
  /** `redis://[user:pass@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Expiry of a node's keys after its last write, in ms. */
  ttlMs: number;
  /** Prefix of every key. Default `lm`. */
  keyPrefix?: string;
  /** Bound of one command, queued time included, in ms. Default 2 000. */
  commandTimeoutMs?: number;
  /** Bound of the initial connection, in ms. Default 5 000. */
  connectTimeoutMs?: number;
  /** Announce changes of registration, status and pools on the fleet's stream. Default false. */
  announce?: boolean;
  /** The instance id written with each announcement, so that it can skip its own. */
  announceAs?: string;
}

/** Entries kept (about) in the stream of node changes. */
const CHANGES_MAXLEN = 100_000;

/** Key names shared by the store and the fleet adapter. */
export function redisNodeKeys(prefix: string) {
  return {
    node: (id: string) => `${prefix}:{node:${id}}:node`,
    caps: (id: string) => `${prefix}:{node:${id}}:caps`,
    index: `${prefix}:{fleet}:nodes`,
    changes: `${prefix}:{fleet}:changes`,
  };
}

// KEYS: node hash, caps. ARGV: field to compare (`registration` or `owner`), expected value.
const REMOVE_SCRIPT = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

interface ScriptCommands {
  lmRemove(node: string, caps: string, field: string, expected: string): Promise<number>;
}

const CapabilitiesSchema = z.object({
  installedServices: z.array(InstalledServiceSchema),
  capabilityByType: z.array(CapabilityByTypeSchema),
  asrLanguages: z.array(z.string()),
  ttsLanguages: z.array(z.string()),
  semanticLanguages: z.array(z.string()),
  nmtPairs: z.array(NmtPairSchema),
  nmtPairsReported: z.boolean(),
});

const BaseSchema = z.object({
  epoch: z.string().optional(),
  version: z.string(),
  platform: z.string(),
  hardware: HardwareSchema,
  maxConcurrentJobs: z.number().int().positive(),
  registeredAt: z.number().int(),
});

const LoadSchema = z.object({
  runningJobs: z.number().int().nonnegative(),
  cpuPercent: z.number(),
  memPercent: z.number(),
  gpuPercent: z.number().optional(),
  gpuMemPercent: z.number().optional(),
});

const PoolsSchema = z.object({ speech: z.array(z.string()), text: z.array(z.string()) });

function json<T extends z.ZodType>(schema: T) {
  return z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  }).pipe(schema);
}

const NodeHashSchema = z.object({
  registration: z.string(),
  owner: z.string(),
  base: json(BaseSchema),
  status: NodeStatusSchema,
  reason: z.string(),
  pools: json(PoolsSchema),
  load: json(LoadSchema).optional(),
  lastHeartbeatAt: z.coerce.number().int().optional(),
});

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function unavailable(err: unknown): KernelError {
  return new KernelError('STORE_UNAVAILABLE', `redis capability store: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
}

/** Hash fields of a patch (JSON for objects); `capabilities` goes to its own key. */
function patchRecord(patch: StoredNodePatch): Record<string, string> {
  const fields: Record<string, string> = {};
  if (patch.status !== undefined) fields.status = patch.status;
  if (patch.reason !== undefined) fields.reason = patch.reason;
  if (patch.pools !== undefined) fields.pools = JSON.stringify(patch.pools);
  if (patch.load !== undefined) fields.load = JSON.stringify(patch.load);
  if (patch.lastHeartbeatAt !== undefined) fields.lastHeartbeatAt = String(patch.lastHeartbeatAt);
  return fields;
}

/** The same as field/value pairs. */
function patchFields(patch: StoredNodePatch): string[] {
  return Object.entries(patchRecord(patch)).flat();
}

/** Connects (bounded by `connectTimeoutMs`) and returns the store; rejects STORE_UNAVAILABLE. */
export async function createRedisCapabilityStore(options: RedisCapabilityStoreOptions): Promise<CapabilityStorePort> {
  const prefix = options.keyPrefix ?? 'lm';
  const keys = redisNodeKeys(prefix);
  const indexKey = keys.index;
  const nodeKey = keys.node;
  const capsKey = keys.caps;
  const announce = options.announce === true;
  const changed = (nodeId: string) => ['XADD', keys.changes, 'MAXLEN', '~', String(CHANGES_MAXLEN), '*', 'n', nodeId, 'o', options.announceAs ?? ''];
  /** When each node's index entry was last refreshed: a heartbeat refreshes it only every quarter TTL. */
  const indexedAt = new Map<string, number>();
  const client = new Redis(options.url, {
    lazyConnect: true,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: 1,
  });
  // Without a listener ioredis reports connection errors on stderr; failed commands reject anyway.
  client.on('error', () => undefined);
  client.defineCommand('lmRemove', { numberOfKeys: 2, lua: REMOVE_SCRIPT });
  const scripts = client as unknown as ScriptCommands;
  const writes = createUpdateBatcher({ client, keys, ttlMs: options.ttlMs, changesMaxLen: CHANGES_MAXLEN, announceAs: options.announceAs ?? '' });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw unavailable(err);
  }

  /** Every call but `update` sends the queued updates first: commands reach Redis in call order. */
  const run = async <T>(signal: AbortSignal, fn: () => Promise<T>, batched = false): Promise<T> => {
    if (signal.aborted) throw new AbortedError('capability store call aborted');
    if (!batched) writes.flush();
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  };

  const decode = (nodeId: string, hash: Record<string, string>, caps: string | null): StoredNode | undefined => {
    if (caps === null || Object.keys(hash).length === 0) return undefined;
    const parsedHash = NodeHashSchema.safeParse(hash);
    const parsedCaps = json(CapabilitiesSchema).safeParse(caps);
    // A record this version cannot read is treated as absent rather than breaking every listing.
    if (!parsedHash.success || !parsedCaps.success) return undefined;
    const h = parsedHash.data;
    return {
      nodeId,
      owner: h.owner,
      registrationId: h.registration,
      ...h.base,
      status: h.status,
      reason: h.reason,
      capabilities: parsedCaps.data as NodeCapabilities,
      ...(h.load ? { load: h.load } : {}),
      pools: h.pools,
      ...(h.lastHeartbeatAt !== undefined ? { lastHeartbeatAt: h.lastHeartbeatAt } : {}),
    };
  };

  const listAll = async (): Promise<StoredNode[]> => {
    await client.zremrangebyscore(indexKey, '-inf', Date.now());
    const ids = await client.zrange(indexKey, 0, -1);
    if (ids.length === 0) return [];
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(nodeKey(id)).get(capsKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const nodes: StoredNode[] = [];
    ids.forEach((id, i) => {
      const [hashErr, hash] = replies[2 * i] ?? [];
      const [capsErr, caps] = replies[2 * i + 1] ?? [];
      if (hashErr || capsErr) throw hashErr ?? capsErr;
      const node = decode(id, (hash ?? {}) as Record<string, string>, (caps ?? null) as string | null);
      if (node) nodes.push(node);
    });
    return nodes.sort((a, b) => compareIds(a.nodeId, b.nodeId));
  };

  let closing: Promise<void> | undefined;
  return {
    put: (node, signal) =>
      run(signal, async () => {
        const { nodeId, owner, registrationId, capabilities, status, reason, pools, load, lastHeartbeatAt } = node;
        const base = { epoch: node.epoch, version: node.version, platform: node.platform, hardware: node.hardware, maxConcurrentJobs: node.maxConcurrentJobs, registeredAt: node.registeredAt };
        const fields = ['registration', registrationId, 'owner', owner, 'base', JSON.stringify(base), ...patchFields({ status, reason, pools, load, lastHeartbeatAt })];
        // Issued back to back, so they reach Redis in this order on the one connection.
        const transaction = client
          .multi()
          .del(nodeKey(nodeId))
          .hset(nodeKey(nodeId), ...fields)
          .pexpire(nodeKey(nodeId), options.ttlMs)
          .set(capsKey(nodeId), JSON.stringify(capabilities), 'PX', options.ttlMs)
          .exec();
        indexedAt.set(nodeId, Date.now());
        const indexed = client.zadd(indexKey, Date.now() + options.ttlMs, nodeId);
        const announced = announce ? client.call(...(changed(nodeId) as [string, ...string[]])) : undefined;
        const [replies] = await Promise.all([transaction, indexed, announced]);
        const failed = (replies ?? []).find(([err]) => err);
        if (failed) throw failed[0];
      }),
    update: (nodeId, registrationId, patch, signal) =>
      run(signal, () => {
        const now = Date.now();
        let indexScore: number | undefined;
        if (now - (indexedAt.get(nodeId) ?? 0) > options.ttlMs / 4) {
          indexedAt.set(nodeId, now);
          indexScore = now + options.ttlMs;
        }
        return writes.update({
          nodeId,
          registrationId,
          fields: patchRecord(patch),
          caps: patch.capabilities ? JSON.stringify(patch.capabilities) : undefined,
          announce: announce && (patch.status !== undefined || patch.pools !== undefined),
          indexScore,
        });
      }, true),
    get: (nodeId, signal) =>
      run(signal, async () => {
        const [hash, caps] = await Promise.all([client.hgetall(nodeKey(nodeId)), client.get(capsKey(nodeId))]);
        return decode(nodeId, hash, caps);
      }),
    list: (signal) => run(signal, listAll),
    remove: (nodeId, registrationId, signal) =>
      run(signal, async () => {
        indexedAt.delete(nodeId);
        const removed = await scripts.lmRemove(nodeKey(nodeId), capsKey(nodeId), 'registration', registrationId);
        if (removed === 1) await Promise.all([client.zrem(indexKey, nodeId), announce ? client.call(...(changed(nodeId) as [string, ...string[]])) : undefined]);
        return removed === 1;
      }),
    removeOwnedBy: (owner, signal) =>
      run(signal, async () => {
        const ids = await client.zrange(indexKey, 0, -1);
        let removed = 0;
        for (const id of ids) {
          if ((await scripts.lmRemove(nodeKey(id), capsKey(id), 'owner', owner)) !== 1) continue;
          await Promise.all([client.zrem(indexKey, id), announce ? client.call(...(changed(id) as [string, ...string[]])) : undefined]);
          removed++;
        }
        return removed;
      }),
    pools: (variant: PoolVariant, signal) =>
      run(signal, async () => {
        const pools = new Map<string, string[]>();
        for (const node of await listAll()) {
          for (const key of node.pools[variant]) {
            let members = pools.get(key);
            if (!members) pools.set(key, (members = []));
            members.push(node.nodeId);
          }
        }
        return Object.fromEntries([...pools.entries()].sort(([a], [b]) => compareIds(a, b)));
      }),
    close() {
      // Updates still queued go out before QUIT.
      if (!closing) writes.flush();
      closing ??= client
        .quit()
        .then(() => undefined)
        .catch(() => client.disconnect());
      return closing;
    },
  };
}

/** Hash fields of a node's record that the fleet reads for dispatch (no capabilities). */
export const SUMMARY_FIELDS = ['registration', 'owner', 'base', 'status', 'reason', 'pools', 'load', 'lastHeartbeatAt'] as const;

/** A node's summary from the values of `SUMMARY_FIELDS` (HMGET order); undefined when absent or unreadable. */
export function decodeSummary(nodeId: string, values: ReadonlyArray<string | null>): RemoteNode | undefined {
  if (values[0] === null || values[0] === undefined) return undefined;
  const hash: Record<string, string> = {};
  SUMMARY_FIELDS.forEach((field, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) hash[field] = value;
  });
  const parsed = NodeHashSchema.safeParse(hash);
  if (!parsed.success) return undefined;
  const h = parsed.data;
  return {
    nodeId,
    owner: h.owner,
    registrationId: h.registration,
    status: h.status,
    pools: h.pools,
    maxConcurrentJobs: h.base.maxConcurrentJobs,
    ...(h.load ? { load: h.load } : {}),
    ...(h.lastHeartbeatAt !== undefined ? { lastHeartbeatAt: h.lastHeartbeatAt } : {}),
  };
}
