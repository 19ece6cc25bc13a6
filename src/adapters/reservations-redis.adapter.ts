/**
 * Job slots in Redis (PROTOCOL.md §5.3), shared by every scheduler instance of a fleet.
 *
 * Key `lm:{node:<id>}:slots`: a hash per node, field `<job_id>#<attempt_id>` → expiry of the
 * reservation (Redis time, ms). `tryReserve` is one Lua script: drop the lapsed fields, count the
 * live ones, take a slot only below capacity — so two instances never take one last slot. Each
 * reservation has a lease renewed by the instance that holds it (`renewEveryMs`); a reservation
 * whose instance died lapses after `leaseMs` and is reclaimed by the next script that counts. The
 * key itself expires with its newest lease.
 *
 * While Redis is unreachable, slots of the nodes this instance holds (`isLocal`) are taken in this
 * process's memory, counted against this instance's own slots only; when Redis is back every slot
 * this instance holds is written again (the resynchronization of the issue).
 */
import type { Redis } from 'ioredis';
import type { Clock, TimerId } from '../kernel/clock.js';
import { systemClock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { ReservationsPort, SlotKey } from '../kernel/ports/reservations.port.js';

export interface RedisReservationsOptions {
  client: Redis;
  /** Lease of a reservation, in ms (renewed at a third of it). */
  leaseMs: number;
  /** Prefix of every key. Default `lm`. */
  keyPrefix?: string;
  /** Nodes whose slots may be taken locally while Redis is unreachable. Default none. */
  isLocal?: (nodeId: string) => boolean;
  /** Whether a timer renews the leases (a test may renew by hand). Default true. */
  renew?: boolean;
  /** Clock of the renewals. Default the system clock. */
  clock?: Clock;
}

export interface RedisReservations extends ReservationsPort {
  /** Extends the lease of every slot this instance holds; resolves false when Redis did not answer. */
  renewAll(): Promise<boolean>;
  /** Writes every slot this instance holds back to Redis (after Redis lost them). */
  resync(): Promise<void>;
}

// KEYS: slots. ARGV: field, capacity, lease ms. 1 = taken (or already held), 0 = full.
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  local all = redis.call('HGETALL', KEYS[1])
  local live = 0
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) <= now then redis.call('HDEL', KEYS[1], all[i]) else live = live + 1 end
  end
  if live >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], now + lease)
redis.call('PEXPIRE', KEYS[1], lease)
return 1`;

// KEYS: slots. ARGV: lease ms, fields… Renews the fields that still exist.
const RENEW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then redis.call('HSET', KEYS[1], ARGV[i], now + lease) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], lease) end
return 1`;

// KEYS: slots. Live reservations, lapsed ones dropped.
const COUNT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local live = 0
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then redis.call('HDEL', KEYS[1], all[i]) else live = live + 1 end
end
return live`;

interface SlotScripts {
  lmReserve(slots: string, field: string, capacity: number, leaseMs: number): Promise<number>;
  lmRenew(slots: string, leaseMs: number, ...fields: string[]): Promise<number>;
  lmCount(slots: string): Promise<number>;
}

function fieldOf(key: SlotKey): string {
  return `${key.jobId}#${key.attemptId}`;
}

function unavailable(err: unknown): KernelError {
  return new KernelError('STORE_UNAVAILABLE', `redis reservations: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
}

export function slotsKey(prefix: string, nodeId: string): string {
  return `${prefix}:{node:${nodeId}}:slots`;
}

export function createRedisReservations(options: RedisReservationsOptions): RedisReservations {
  const { client, leaseMs } = options;
  const prefix = options.keyPrefix ?? 'lm';
  const isLocal = options.isLocal ?? (() => false);
  if (!('lmReserve' in client)) {
    client.defineCommand('lmReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    client.defineCommand('lmRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
    client.defineCommand('lmCount', { numberOfKeys: 1, lua: COUNT_SCRIPT });
  }
  const scripts = client as unknown as SlotScripts;
  /** Every slot this instance holds: node → fields. */
  const held = new Map<string, Set<string>>();
  /** Slots taken while Redis was unreachable, to write once it is back. */
  let offline = false;
  let closed = false;
  let renewing: Promise<boolean> | undefined;

  const hold = (nodeId: string, field: string) => {
    let fields = held.get(nodeId);
    if (!fields) held.set(nodeId, (fields = new Set()));
    fields.add(field);
  };
  const unhold = (nodeId: string, field: string) => {
    const fields = held.get(nodeId);
    if (!fields?.delete(field)) return false;
    if (fields.size === 0) held.delete(nodeId);
    return true;
  };
  const check = (signal: AbortSignal) => {
    if (signal.aborted) throw new AbortedError('reservation call aborted', { cause: signal.reason });
  };

  const renewAll = (): Promise<boolean> => {
    renewing ??= (async () => {
      if (held.size === 0) return true;
      const pipeline = client.pipeline();
      for (const [nodeId, fields] of held) (pipeline as unknown as SlotScripts).lmRenew(slotsKey(prefix, nodeId), leaseMs, ...fields);
      try {
        const replies = (await pipeline.exec()) ?? [];
        return replies.every(([err]) => !err);
      } catch {
        return false;
      }
    })().finally(() => {
      renewing = undefined;
    });
    return renewing;
  };

  const resync = async (): Promise<void> => {
    if (held.size === 0) {
      offline = false;
      return;
    }
    const pipeline = client.pipeline();
    // Capacity is not checked again: these slots are held already; the nodes count them.
    for (const [nodeId, fields] of held) for (const field of fields) (pipeline as unknown as SlotScripts).lmReserve(slotsKey(prefix, nodeId), field, Number.MAX_SAFE_INTEGER, leaseMs);
    const replies = (await pipeline.exec()) ?? [];
    if (replies.some(([err]) => err)) throw unavailable(replies.find(([err]) => err)?.[0]);
    offline = false;
  };

  const clock = options.clock ?? systemClock;
  let timer: TimerId | undefined;
  const tick = () => {
    timer = closed ? undefined : clock.setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));
    void renewAll();
  };
  if (options.renew !== false) timer = clock.setTimeout(tick, Math.max(1, Math.floor(leaseMs / 3)));

  return {
    async tryReserve(key, capacity, signal) {
      check(signal);
      if (closed) return false;
      const field = fieldOf(key);
      try {
        const taken = (await scripts.lmReserve(slotsKey(prefix, key.nodeId), field, capacity, leaseMs)) === 1;
        if (taken) hold(key.nodeId, field);
        return taken;
      } catch (err) {
        if (!isLocal(key.nodeId)) throw unavailable(err);
        offline = true;
        const mine = held.get(key.nodeId);
        if (mine?.has(field)) return true;
        if ((mine?.size ?? 0) >= capacity) return false;
        hold(key.nodeId, field);
        return true;
      }
    },
    // A release is clean-up: it runs even after the caller's signal aborted (at shutdown).
    async release(key) {
      const field = fieldOf(key);
      if (!unhold(key.nodeId, field)) return;
      try {
        await client.hdel(slotsKey(prefix, key.nodeId), field);
      } catch {
        // The field lapses with its lease; nothing else to do.
      }
    },
    async counts(nodeIds, signal) {
      check(signal);
      const out = new Map<string, number>();
      if (offline) {
        for (const id of nodeIds ?? [...held.keys()]) if (held.get(id)?.size) out.set(id, held.get(id)!.size);
        return out;
      }
      let ids = nodeIds;
      try {
        if (ids === undefined) {
          const found = new Set<string>();
          const pattern = `${prefix}:{node:*}:slots`;
          let cursor = '0';
          do {
            const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
            cursor = next;
            for (const k of keys) found.add(k.slice(prefix.length + 7, -7));
          } while (cursor !== '0');
          ids = [...found];
        }
        if (ids.length === 0) return out;
        const pipeline = client.pipeline();
        for (const id of ids) (pipeline as unknown as SlotScripts).lmCount(slotsKey(prefix, id));
        const replies = (await pipeline.exec()) ?? [];
        ids.forEach((id, i) => {
          const [err, count] = replies[i] ?? [];
          if (err) throw err;
          if (Number(count) > 0) out.set(id, Number(count));
        });
        return out;
      } catch (err) {
        if (err instanceof KernelError) throw err;
        // Unreachable: this instance's own slots are all it knows of.
        if (nodeIds !== undefined && nodeIds.some((id) => !isLocal(id))) throw unavailable(err);
        for (const id of ids ?? [...held.keys()]) if (held.get(id)?.size) out.set(id, held.get(id)!.size);
        return out;
      }
    },
    renewAll,
    resync,
    async close() {
      closed = true;
      clock.clearTimeout(timer);
      const pipeline = client.pipeline();
      for (const [nodeId, fields] of held) pipeline.hdel(slotsKey(prefix, nodeId), ...fields);
      held.clear();
      await pipeline.exec().catch(() => undefined);
    },
  };
}
