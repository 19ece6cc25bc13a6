/**
 * Issues capability-store writes and turns their failures into a metric and a rate-limited log
 * line: a store that is down must not stop the nodes this instance holds from being served
 * (PROTOCOL.md §11 SCHEDULER_DEPENDENCY_DOWN), nor flood the log at the heartbeat rate.
 */
import type { Logger } from '../../kernel/logger.js';
import type { SchedulerMetricsPort } from '../../kernel/ports/scheduler-metrics.port.js';
import { isKernelError } from '../../kernel/errors.js';

/** At most one failure line per this many ms, with the count of the ones left out. */
const FAILURE_LOG_INTERVAL_MS = 5_000;

export class StoreWriter {
  private readonly pending = new Set<Promise<void>>();
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly metrics: SchedulerMetricsPort,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Tracks a write; the returned promise settles with it and never rejects. */
  issue(write: Promise<unknown>): Promise<void> {
    const tracked = write.then(
      () => undefined,
      (err: unknown) => this.failed(err),
    );
    this.pending.add(tracked);
    void tracked.then(() => this.pending.delete(tracked));
    return tracked;
  }

  /** Settles once every write issued so far has settled. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private failed(err: unknown): void {
    if (this.signal.aborted) return;
    this.metrics.storeError();
    const now = performance.now();
    if (now - this.lastLoggedAt < FAILURE_LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    this.log.warn({ err, code: isKernelError(err) ? err.code : undefined, suppressed: this.suppressed }, 'capability store write failed; serving from local state');
    this.lastLoggedAt = now;
    this.suppressed = 0;
  }
}
