/**
 * How `linguamesh up` shows `startAll`'s progress on stderr: on a TTY, one cli-progress bar per
 * package install (bytes of the current phase) with the other steps printed above the bars; else
 * one line per step (phase changes only, never one line per byte count).
 */
import { MultiBar, Presets } from 'cli-progress';
import type { SingleBar } from 'cli-progress';
import type { StartAllProgress } from './start-all.js';

export interface ProgressView {
  show(event: StartAllProgress): void;
  /** Removes the bars (before the summary is printed). */
  close(): void;
}

function describe(event: StartAllProgress): string | undefined {
  switch (event.kind) {
    case 'started':
      return `${event.role} listening at ${event.url}`;
    case 'publish':
      return event.step === 'present' ? `${event.serviceId}@${event.version}: already on the hub` : `${event.serviceId}@${event.version}: ${event.step}${event.step === 'published' ? ' to the hub' : ''}`;
    case 'install':
      return `${event.serviceId}@${event.version}: ${event.phase}${event.bytesTotal > 0 ? ` ${mb(event.bytesTotal)} MB` : ''}`;
    case 'installed':
      return `${event.serviceId}@${event.version}: ${event.outcome === 'unchanged' ? 'already installed' : event.outcome} on the node`;
    case 'service':
      return `${event.serviceId}: ${event.state}${event.reason ? ` (${event.reason})` : ''}`;
    case 'node':
      return `node ${event.status} at the scheduler (${event.reason})`;
    default: {
      const never: never = event;
      return never;
    }
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

export function createProgressView(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  const begun = Date.now();
  const line = (text: string) => `up [${((Date.now() - begun) / 1000).toFixed(1).padStart(5)} s] ${text}\n`;
  if (stream.isTTY !== true) {
    let lastPhase = new Map<string, string>();
    return {
      show(event) {
        if (event.kind === 'install') {
          if (lastPhase.get(event.serviceId) === event.phase) return;
          lastPhase.set(event.serviceId, event.phase);
        }
        const text = describe(event);
        if (text !== undefined) stream.write(line(text));
      },
      close() {
        lastPhase = new Map();
      },
    };
  }
  const multi = new MultiBar({ format: ' {service} {phase} [{bar}] {percentage}% {doneMb}/{totalMb} MB', hideCursor: true, clearOnComplete: false, stream }, Presets.shades_classic);
  const bars = new Map<string, SingleBar>();
  let closed = false;
  return {
    show(event) {
      if (event.kind === 'install' && event.bytesTotal > 0 && !closed) {
        const payload = { service: event.serviceId.padEnd(18), phase: event.phase.padEnd(8), doneMb: mb(event.bytesDone), totalMb: mb(event.bytesTotal) };
        let bar = bars.get(event.serviceId);
        if (!bar) {
          bar = multi.create(event.bytesTotal, event.bytesDone, payload);
          bars.set(event.serviceId, bar);
        }
        bar.setTotal(event.bytesTotal);
        bar.update(event.bytesDone, payload);
        return;
      }
      const text = describe(event);
      if (text === undefined) return;
      // The bars print logged lines at their next redraw; with no bar yet, nothing would redraw.
      if (bars.size === 0 || closed) stream.write(line(text));
      else multi.log(line(text));
    },
    close() {
      if (bars.size > 0 && !closed) multi.stop();
      closed = true;
    },
  };
}
