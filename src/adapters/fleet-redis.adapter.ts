/**
 * The fleet on Redis (FleetPort): instance leases, the inboxes between instances, session homes,
 * and the stream of node changes every instance follows.
 *
 * Keys (hash tags: `{fleet}` for what every instance shares, `{inst:<id>}` per instance,
 * `{session:<id>}` per session; every key has a TTL renewed by its owner, or is deleted by it):
 * - `lm:{fleet}:instances`: sorted set of instance ids scored by the end of their lease;
 *   `lm:{fleet}:instance:<id>`: JSON of the instance, expiring with its lease;
 * - `lm:{inst:<id>}:inbox`: the instance's stream of envelopes, read by its consumer group `g`
 *   and acknowledged (XACK) once handled — for a `job_assign`, once handed to the node;
 * - `lm:{session:<id>}:home`: the instance a session lives on;
 * - `lm:{fleet}:changes` and the node records: see capability-store-redis.adapter.ts.
 *
 * Three connections: commands, and one blocking reader each for the inbox and the changes.
 */
import { Redis } from 'ioredis';
import type { Clock, TimerId } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { FleetEnvelope, FleetHandlers, FleetInstance, FleetPort, RemoteNode } from '../kernel/ports/fleet.port.js';
import { decodeSummary, redisNodeKeys, SUMMARY_FIELDS } from './capability-store-redis.adapter.js';

export interface RedisFleetOptions {
  url: string;
  instanceId: string;
  /** Lease of the instance and of its session marks, in ms; renewed at a third of it. */
  leaseMs: number;
  /** Prefix of every key. Default `lm`. */
  keyPrefix?: string;
  /** Bound of one command, in ms. Default 2 000. */
  commandTimeoutMs?: number;
  /** Clock of the lease renewals. Default the system clock. */
  clock?: Clock;
}

export interface RedisFleet extends FleetPort {
  /** The command connection (shared with the reservations adapter). */
  readonly client: Redis;
}

/** Entries kept (about) in an inbox. */
const INBOX_MAXLEN = 10_000;
/** How long a blocking read waits before it looks again, in ms. */
const BLOCK_MS = 1_000;
/** Expiry of the changes stream after the last lease renewal of any instance, in ms. */
const CHANGES_TTL_MS = 600_000;

// KEYS: instances zset, instance key. ARGV: id, JSON, lease ms. Returns the lease end.
const LEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'PX', lease)
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], lease * 10)
return now + lease`;

// KEYS: instances zset. ARGV: instance key prefix. Returns id, score, JSON triples of live instances.
const INSTANCES_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ids = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #ids, 2 do
  local info = redis.call('GET', ARGV[1] .. ids[i])
  if info then
    out[#out + 1] = ids[i]
    out[#out + 1] = ids[i + 1]
    out[#out + 1] = info
  end
end
return out`;

interface FleetScripts {
  lmLease(zset: string, key: string, id: string, json: string, leaseMs: number): Promise<number>;
  lmInstances(zset: string, keyPrefix: string): Promise<string[]>;
}

function unavailable(err: unknown): KernelError {
  return new KernelError('STORE_UNAVAILABLE', `redis fleet: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function fieldsOf(entry: [string, string[]]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < entry[1].length; i += 2) out[entry[1][i]!] = entry[1][i + 1]!;
  return out;
}

/** The fleet, not yet connected: `start` connects (bounded) and joins; it rejects STORE_UNAVAILABLE. */
export function createRedisFleet(options: RedisFleetOptions): RedisFleet {
  const { instanceId, leaseMs } = options;
  const prefix = options.keyPrefix ?? 'lm';
  const nodeKeys = redisNodeKeys(prefix);
  const instancesKey = `${prefix}:{fleet}:instances`;
  const instanceKeyPrefix = `${prefix}:{fleet}:instance:`;
  const inboxOf = (id: string) => `${prefix}:{inst:${id}}:inbox`;
  const homeOf = (sessionId: string) => `${prefix}:{session:${sessionId}}:home`;
  const inbox = inboxOf(instanceId);
  const connection = { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 1 } as const;
  const client = new Redis(options.url, { ...connection, commandTimeout: options.commandTimeoutMs ?? 2_000 });
  const inboxReader = new Redis(options.url, connection);
  const changesReader = new Redis(options.url, connection);
  for (const c of [client, inboxReader, changesReader]) c.on('error', () => undefined);
  client.defineCommand('lmLease', { numberOfKeys: 2, lua: LEASE_SCRIPT });
  client.defineCommand('lmInstances', { numberOfKeys: 1, lua: INSTANCES_SCRIPT });
  const scripts = client as unknown as FleetScripts;

  const homes = new Set<string>();
  let handlers: FleetHandlers | undefined;
  let info = '';
  let up = true;
  let closed = false;
  const clock = options.clock ?? systemClock;
  let renewTimer: TimerId | undefined;
  const loops: Promise<void>[] = [];
  // A reader's blocking command can outlive `disconnect()`: when ioredis is between reconnect
  // attempts, disconnecting settles nothing in its offline queue. The loops race each read with
  // this, so that `close()` never waits on a Redis that is gone.
  let markClosed: () => void = () => undefined;
  const whenClosed = new Promise<null>((resolve) => (markClosed = () => resolve(null)));
  const read = <T>(command: Promise<T>): Promise<T | null> => {
    command.catch(() => undefined);
    return Promise.race([command, whenClosed]);
  };

  const check = (signal: AbortSignal) => {
    if (signal.aborted) throw new AbortedError('fleet call aborted', { cause: signal.reason });
  };
  const setUp = (next: boolean) => {
    if (next === up || closed) return;
    up = next;
    handlers?.connection(next);
  };

  /** The inbox and its group exist (a restarted Redis has neither). */
  const ensureInbox = async () => {
    try {
      await client.xgroup('CREATE', inbox, 'g', '$', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
  };

  /** Lease, inbox expiry, session marks and the changes stream's expiry: one round trip. */
  const renew = async (): Promise<boolean> => {
    const pipeline = client.pipeline();
    (pipeline as unknown as FleetScripts).lmLease(instancesKey, instanceKeyPrefix + instanceId, instanceId, info, leaseMs);
    pipeline.pexpire(inbox, leaseMs * 3);
    pipeline.pexpire(nodeKeys.changes, CHANGES_TTL_MS);
    for (const sessionId of homes) pipeline.set(homeOf(sessionId), instanceId, 'PX', leaseMs);
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      // A lease written on a Redis that lost everything: the inbox needs its group again.
      if (replies[1]?.[1] === 0) await ensureInbox();
      return true;
    } catch {
      return false;
    }
  };

  const renewLoop = async () => {
    renewTimer = closed ? undefined : clock.setTimeout(() => void renewLoop(), Math.max(1, Math.floor(leaseMs / 3)));
    const ok = await renew();
    if (ok && !up) {
      await ensureInbox().catch(() => undefined);
      setUp(true);
    } else if (!ok) setUp(false);
  };

  const readInbox = async () => {
    while (!closed) {
      try {
        const reply = (await read(inboxReader.xreadgroup('GROUP', 'g', 'c', 'COUNT', 200, 'BLOCK', BLOCK_MS, 'STREAMS', inbox, '>'))) as Array<[string, Array<[string, string[]]>]> | null;
        if (!reply || closed) continue;
        for (const [, entries] of reply) {
          const ids: string[] = [];
          for (const entry of entries) {
            ids.push(entry[0]);
            const text = fieldsOf(entry).e;
            if (text === undefined) continue;
            try {
              await handlers?.envelope(JSON.parse(text) as FleetEnvelope);
            } catch {
              // A malformed or failing envelope is acknowledged too: it would fail again.
            }
          }
          if (ids.length > 0) await client.xack(inbox, 'g', ...ids).catch(() => undefined);
        }
      } catch (err) {
        if (closed) return;
        if (err instanceof Error && err.message.includes('NOGROUP')) await ensureInbox().catch(() => undefined);
        else await pause(200);
      }
    }
  };

  const readChanges = async () => {
    let lastId = '$';
    while (!closed) {
      try {
        if (lastId === '$') {
          const last = (await read(changesReader.xrevrange(nodeKeys.changes, '+', '-', 'COUNT', 1))) as Array<[string, string[]]> | null;
          if (!last) continue;
          lastId = last[0]?.[0] ?? '0-0';
        }
        const reply = (await read(changesReader.xread('COUNT', 5_000, 'BLOCK', BLOCK_MS, 'STREAMS', nodeKeys.changes, lastId))) as Array<[string, Array<[string, string[]]>]> | null;
        if (!reply || closed) continue;
        const changed = new Set<string>();
        for (const [, entries] of reply) {
          for (const entry of entries) {
            lastId = entry[0];
            const fields = fieldsOf(entry);
            // This instance's own announcements: it holds those nodes already.
            if (fields.n !== undefined && fields.o !== instanceId) changed.add(fields.n);
          }
        }
        if (changed.size > 0) handlers?.nodesChanged([...changed]);
      } catch {
        if (closed) return;
        // After a loss the stream may have restarted: read from its end again (a resync follows).
        lastId = '$';
        await pause(200);
      }
    }
  };

  const summaries = async (ids: readonly string[]): Promise<RemoteNode[]> => {
    if (ids.length === 0) return [];
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hmget(nodeKeys.node(id), ...SUMMARY_FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const out: RemoteNode[] = [];
    ids.forEach((id, i) => {
      const [err, values] = replies[i] ?? [];
      if (err) throw err;
      const node = decodeSummary(id, (values ?? []) as Array<string | null>);
      if (node) out.push(node);
    });
    return out;
  };

  return {
    instanceId,
    client,
    async start(h, address) {
      handlers = h;
      info = JSON.stringify({ instanceId, startedAt: Date.now(), ...(address ? { address } : {}) });
      try {
        // A client another adapter used already connected on its first command.
        await Promise.all([client, inboxReader, changesReader].map((c) => (c.status === 'wait' ? c.connect() : undefined)));
        await ensureInbox();
      } catch (err) {
        throw unavailable(err);
      }
      if (!(await renew())) throw unavailable(new Error('could not take the instance lease'));
      renewTimer = clock.setTimeout(() => void renewLoop(), Math.max(1, Math.floor(leaseMs / 3)));
      for (const c of [client, inboxReader, changesReader]) {
        c.on('close', () => setUp(false));
      }
      loops.push(readInbox(), readChanges());
    },
    isUp: () => up && client.status === 'ready',
    async instances(signal) {
      check(signal);
      try {
        const flat = await scripts.lmInstances(instancesKey, instanceKeyPrefix);
        const out: FleetInstance[] = [];
        for (let i = 0; i + 2 < flat.length; i += 3) {
          const parsed = JSON.parse(flat[i + 2]!) as { startedAt?: number; address?: string };
          out.push({ instanceId: flat[i]!, leaseUntil: Number(flat[i + 1]), startedAt: parsed.startedAt ?? 0, ...(parsed.address ? { address: parsed.address } : {}) });
        }
        return out.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
      } catch (err) {
        throw unavailable(err);
      }
    },
    async nodes(nodeIds, signal) {
      check(signal);
      try {
        return await summaries(nodeIds);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async allNodes(signal) {
      check(signal);
      try {
        await client.zremrangebyscore(nodeKeys.index, '-inf', Date.now());
        return await summaries(await client.zrange(nodeKeys.index, 0, -1));
      } catch (err) {
        throw unavailable(err);
      }
    },
    async send(to, envelope, signal) {
      check(signal);
      try {
        await client.xadd(inboxOf(to), 'MAXLEN', '~', INBOX_MAXLEN, '*', 'e', JSON.stringify(envelope));
      } catch (err) {
        throw unavailable(err);
      }
    },
    homeSessions(sessionIds) {
      if (sessionIds.length === 0) return;
      const pipeline = client.pipeline();
      for (const id of sessionIds) {
        homes.add(id);
        pipeline.set(homeOf(id), instanceId, 'PX', leaseMs);
      }
      // Renewed with the lease; a failed write is made again by the next renewal.
      void pipeline.exec().catch(() => undefined);
    },
    leaveSessions(sessionIds) {
      if (sessionIds.length === 0) return;
      for (const id of sessionIds) homes.delete(id);
      void client.del(...sessionIds.map(homeOf)).catch(() => undefined);
    },
    async sessionHome(sessionId, signal) {
      check(signal);
      if (homes.has(sessionId)) return instanceId;
      try {
        return (await client.get(homeOf(sessionId))) ?? undefined;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      markClosed();
      clock.clearTimeout(renewTimer);
      const pipeline = client.pipeline();
      pipeline.zrem(instancesKey, instanceId).del(instanceKeyPrefix + instanceId, inbox);
      if (homes.size > 0) pipeline.del(...[...homes].map(homeOf));
      await pipeline.exec().catch(() => undefined);
      inboxReader.disconnect();
      changesReader.disconnect();
      await Promise.allSettled(loops);
      await client.quit().catch(() => client.disconnect());
    },
  };
}
