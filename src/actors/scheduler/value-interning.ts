/**
 * One shared, frozen copy of each distinct value that many nodes report alike: capability reports,
 * normalized capabilities, hardware, pools. A fleet runs few distinct configurations, so with
 * 10 000 nodes this keeps a handful of copies instead of one per node (and one per node and
 * capability change): memory per node is the budget (bench/scheduler.ts).
 *
 * Sharing is safe because these values are never mutated once parsed or computed (the capability
 * store port treats records as values); freezing them turns a mistaken mutation into an error
 * instead of a change to every node that shares the value.
 *
 * Bound: an entry lives only as long as some node holds its value (a weak reference, removed once
 * the value is collected), and at most `MAX_INTERNED_VALUES` are shared at a time; past that, new
 * distinct values are simply not shared.
 */

/** Most distinct values shared at a time (a fleet of unique configurations shares nothing more). */
export const MAX_INTERNED_VALUES = 4_096;

/** Deep-freezes plain data (what JSON.parse and the zod schemas produce). */
function freezePlainData(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  for (const member of Object.values(value)) freezePlainData(member);
  Object.freeze(value);
}

export class ValueInterner {
  private readonly table = new Map<string, WeakRef<object>>();
  private readonly collected = new FinalizationRegistry<string>((key) => {
    // The key may have been taken by a newer value since: remove only an entry whose value is gone.
    if (this.table.get(key)?.deref() === undefined) this.table.delete(key);
  });

  /**
   * The shared copy of plain data equal to `value` (same members in the same order), or `value`
   * itself, frozen, when it is the first of its kind. Callers must not mutate `value` afterwards.
   */
  intern<T extends object>(value: T): T {
    const key = JSON.stringify(value);
    const shared = this.table.get(key)?.deref();
    if (shared !== undefined) return shared as T;
    freezePlainData(value);
    if (this.table.size < MAX_INTERNED_VALUES) {
      this.table.set(key, new WeakRef(value));
      this.collected.register(value, key);
    }
    return value;
  }

  /** Number of values shared now (tests). */
  size(): number {
    return this.table.size;
  }
}
