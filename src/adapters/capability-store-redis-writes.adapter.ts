/**
 * The fenced updates of the Redis capability store, written in batches: the updates issued in one
 * turn of the event loop (a heartbeat's load and time, a status change, new capabilities) go to
 * Redis in one script call, one round trip, instead of a script call per update. While a batch is
 * on its way, the next one gathers (so at most one is in flight and, under load, batches grow
 * rather than queue up). Updates of one node for the same registration within a batch are merged,
 * the latest value of each field winning, so that the state Redis keeps is always the node's last
 * one.
 *
 * The script applies each node's part only when the record still carries that registration
 * (fencing: an older owner never writes over a newer one), refreshes the TTL of both of the node's
 * keys, and, when asked, the node's entry in the index and an announcement on the changes stream.
 *
 * Redis Cluster: one call touches the keys of several nodes and the fleet's keys, which a cluster
 * serves only when they share a slot. On a cluster a batch would be split by slot (a node's keys
 * share one, through their hash tag); this store connects to one Redis, so one call carries all.
 */
import type { Redis } from 'ioredis';

/** Nodes per script call: a longer call would hold Redis (and every other instance's command) up. */
export const MAX_BATCH_NODES = 200;

// KEYS: index zset, changes stream, then per node: its hash, its caps key.
// ARGV: ttl ms, changes MAXLEN, announcing instance, then the nodes as one JSON array (one
// argument rather than a dozen per node: building and sending many arguments is what costs the
// client): per node [node id, registration, caps JSON or '', index score or '', announce '1' or
// '0', then field, value, field, value…], every item a string.
// Returns 1 or 0 per node: whether its part was applied.
const BATCH_SCRIPT = `
redis.replicate_commands()
local ttl, maxlen, announcer = ARGV[1], ARGV[2], ARGV[3]
local nodes = cjson.decode(ARGV[4])
local applied = {}
for i, n in ipairs(nodes) do
  local hash, caps = KEYS[2 * i + 1], KEYS[2 * i + 2]
  if redis.call('HGET', hash, 'registration') == n[2] then
    if n[3] ~= '' then redis.call('SET', caps, n[3], 'PX', ttl) else redis.call('PEXPIRE', caps, ttl) end
    if #n > 5 then redis.call('HSET', hash, unpack(n, 6)) end
    redis.call('PEXPIRE', hash, ttl)
    if n[4] ~= '' then redis.call('ZADD', KEYS[1], 'XX', n[4], n[1]) end
    if n[5] == '1' then redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '*', 'n', n[1], 'o', announcer) end
    applied[i] = 1
  else
    applied[i] = 0
  end
end
return applied`;

export interface NodeUpdate {
  nodeId: string;
  registrationId: string;
  /** Hash fields to write, name → value; the batcher takes this object over (merges into it). */
  fields: Record<string, string>;
  /** Capabilities JSON when they changed. */
  caps: string | undefined;
  /** Announce the node on the changes stream (its status or pools changed). */
  announce: boolean;
  /** Refresh the node's score in the index (the writer does so every quarter TTL). */
  indexScore: number | undefined;
}

interface Pending extends NodeUpdate {
  waiters: Array<{ resolve: (applied: boolean) => void; reject: (err: unknown) => void }>;
}

export interface UpdateBatcherOptions {
  client: Redis;
  keys: { node: (id: string) => string; caps: (id: string) => string; index: string; changes: string };
  ttlMs: number;
  changesMaxLen: number;
  /** The instance id written with each announcement. */
  announceAs: string;
  /** Nodes per script call. Default `MAX_BATCH_NODES`. */
  maxBatchNodes?: number;
}

export interface UpdateBatcher {
  /** Queues an update for the next batch; resolves whether the record took it (fencing). */
  update(update: NodeUpdate): Promise<boolean>;
  /** Sends what is queued now, even with a batch in flight, so that a command issued next reaches Redis after it. */
  flush(): void;
}

interface BatchCommand {
  /** Array arguments are flattened by ioredis. */
  lmBatch(numKeys: number, keys: string[], fixed: string[], nodes: string): Promise<number[]>;
}

export function createUpdateBatcher(options: UpdateBatcherOptions): UpdateBatcher {
  const { client, keys } = options;
  const maxNodes = options.maxBatchNodes ?? MAX_BATCH_NODES;
  const fixed = [String(options.ttlMs), String(options.changesMaxLen), options.announceAs];
  client.defineCommand('lmBatch', { lua: BATCH_SCRIPT });
  const script = client as unknown as BatchCommand;
  /** The next batch's updates in the order they were first queued, and the same by node. */
  let queue: Pending[] = [];
  let byNode = new Map<string, Pending>();
  let scheduled = false;
  /** Script calls sent and not answered yet. */
  let inFlight = 0;

  const schedule = () => {
    if (scheduled || inFlight > 0 || queue.length === 0) return;
    scheduled = true;
    setImmediate(flush);
  };

  const settled = () => {
    inFlight--;
    schedule();
  };

  const send = (batch: Pending[]) => {
    const keyArgs: string[] = [keys.index, keys.changes];
    const nodes: string[][] = [];
    for (const u of batch) {
      keyArgs.push(keys.node(u.nodeId), keys.caps(u.nodeId));
      const node = [u.nodeId, u.registrationId, u.caps ?? '', u.indexScore === undefined ? '' : String(u.indexScore), u.announce ? '1' : '0'];
      for (const name in u.fields) node.push(name, u.fields[name]!);
      nodes.push(node);
    }
    inFlight++;
    script.lmBatch(keyArgs.length, keyArgs, fixed, JSON.stringify(nodes)).then(
      (applied) => {
        settled();
        batch.forEach((u, i) => u.waiters.forEach((w) => w.resolve(applied[i] === 1)));
      },
      (err: unknown) => {
        settled();
        batch.forEach((u) => u.waiters.forEach((w) => w.reject(err)));
      },
    );
  };

  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    const all = queue;
    queue = [];
    byNode = new Map();
    for (let i = 0; i < all.length; i += maxNodes) send(all.slice(i, i + maxNodes));
  };

  return {
    update(update) {
      return new Promise<boolean>((resolve, reject) => {
        const waiter = { resolve, reject };
        const pending = byNode.get(update.nodeId);
        if (pending && pending.registrationId === update.registrationId) {
          // The same node again in this batch: one write with the latest value of every field.
          Object.assign(pending.fields, update.fields);
          if (update.caps !== undefined) pending.caps = update.caps;
          pending.announce ||= update.announce;
          if (update.indexScore !== undefined) pending.indexScore = update.indexScore;
          pending.waiters.push(waiter);
        } else {
          // A first update, or one for another registration: written after what is queued.
          const next: Pending = { ...update, waiters: [waiter] };
          queue.push(next);
          byNode.set(update.nodeId, next);
        }
        schedule();
      });
    },
    flush,
  };
}
