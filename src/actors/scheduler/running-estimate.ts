/**
 * A node's running jobs as the dispatcher estimates them (PROTOCOL.md §5.3): its reported
 * `running_jobs`, less this dispatcher's attempts that the report counted (dispatched before it)
 * and that have ended since. A report taken while the node was busy would otherwise keep it
 * "full" until its next heartbeat, 15 s later.
 */

interface EndedSinceReport {
  /** `lastHeartbeatAt` of the report this counts against. */
  reportAt: number;
  count: number;
}

export class RunningEstimate {
  private readonly ended = new Map<string, EndedSinceReport>();

  /** The estimate for a node whose last report is `view`. */
  runningNow(nodeId: string, view: { load: { runningJobs: number } | undefined; lastHeartbeatAt: number | undefined }): number {
    const reported = view.load?.runningJobs ?? 0;
    const ended = this.ended.get(nodeId);
    return ended && ended.reportAt === view.lastHeartbeatAt ? Math.max(0, reported - ended.count) : reported;
  }

  /** Notes an attempt dispatched at `dispatchedAt` that ended on a node whose last report is at `reportAt`. */
  noteEnded(nodeId: string, dispatchedAt: number, reportAt: number | undefined): void {
    if (reportAt === undefined || dispatchedAt > reportAt) return;
    const ended = this.ended.get(nodeId);
    if (ended && ended.reportAt === reportAt) ended.count += 1;
    else this.ended.set(nodeId, { reportAt, count: 1 });
  }

  forget(nodeId: string): void {
    this.ended.delete(nodeId);
  }
}
