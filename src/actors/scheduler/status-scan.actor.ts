/**
 * The backstop of the node timers (PROTOCOL.md §4.5): every `status_scan_interval_ms` it asks each
 * node machine to check its warm-up and liveness against the clock. Each machine's own delayed
 * transitions do the real work; this only bounds how late they can be if a timer was lost.
 */
import { fromCallback } from 'xstate';
import type { Clock, TimerId } from '../../kernel/clock.js';

export interface StatusScanInput {
  clock: Clock;
  /** Period of the scan, in ms. */
  intervalMs: number;
  scan: () => void;
}

export const statusScanActor = fromCallback<{ type: 'supervisor.shutdown' }, StatusScanInput>(({ input }) => {
  let timer: TimerId | undefined;
  const tick = () => {
    input.scan();
    timer = input.clock.setTimeout(tick, input.intervalMs);
  };
  timer = input.clock.setTimeout(tick, input.intervalMs);
  return () => input.clock.clearTimeout(timer);
});
