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
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private lastLoggedAt = Number.NEGATIVE_INFINITY;
  private suppressed = 0;
  private readonly settled = (): void => {
    if (--this.inFlight === 0) this.drained?.();
  };
  private readonly rejected = (err: unknown): void => {
    this.failed(err);
    this.settled();
  };

  constructor(
    private readonly metrics: SchedulerMetricsPort,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Tracks a write; the returned promise settles with it and never rejects. */
  issue(write: Promise<unknown>): Promise<void> {
    this.inFlight++;
    return write.then(this.settled, this.rejected);
  }

  /** Settles once no write is in flight. */
  flush(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        this.drained = undefined;
        resolve();
      };
    });
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
