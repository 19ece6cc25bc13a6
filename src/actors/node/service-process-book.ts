/**
 * The pids of the service processes this node started, kept in the data directory, so that a node
 * killed with SIGKILL leaves no orphan behind at its next start: each recorded process that still
 * runs with the same start time is killed with its whole group. A pid the OS has given to another
 * process since (different start time) is left alone.
 */
import { AbortedError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { ProcessHandle, ProcessPort } from '../../kernel/ports/process.port.js';
import type { StateFilePort } from '../../kernel/ports/state-file.port.js';
import { ServiceProcessesFileSchema } from '../../protocol/node-files.schema.js';
import type { ServiceProcessRecord } from '../../protocol/node-files.schema.js';
import { parseWith } from '../../protocol/validation.js';

/** Writes of the book are never cancelled: a half-kept record is worse than a late one. */
const NEVER = new AbortController().signal;

export interface ServiceProcessBook {
  /** Kills what an earlier node process left running, then forgets it. Call once, before any service starts. */
  reapStale(signal: AbortSignal): Promise<{ killed: ServiceProcessRecord[]; skipped: ServiceProcessRecord[] }>;
  recordSpawn(serviceId: string, handle: ProcessHandle): void;
  recordExit(serviceId: string, pid: number): void;
  /** Resolves once every write asked for so far has been made. */
  flush(): Promise<void>;
}

export function createServiceProcessBook(deps: { path: string; stateFiles: StateFilePort; processes: ProcessPort; logger: Logger }): ServiceProcessBook {
  const { path, stateFiles, processes, logger: log } = deps;
  // Bounded by the number of services: one record per live service process.
  const live = new Map<number, ServiceProcessRecord>();
  let writing: Promise<void> = Promise.resolve();

  const persist = () => {
    const doc = { processes: [...live.values()] };
    writing = writing
      .then(() => stateFiles.write(path, doc, { mode: 'atomic' }, NEVER))
      .catch((err: unknown) => log.warn({ err, path }, 'cannot record service pids'));
  };

  return {
    async reapStale(signal) {
      if (signal.aborted) throw new AbortedError('stale process clean-up aborted');
      let raw: unknown;
      try {
        raw = await stateFiles.read(path, signal);
      } catch (err) {
        log.warn({ err, path }, 'unreadable service pid file; ignored');
        raw = undefined;
      }
      const parsed = raw === undefined ? undefined : parseWith(ServiceProcessesFileSchema, raw, 'service pid file');
      const records = parsed?.ok ? parsed.value.processes : [];
      const killed: ServiceProcessRecord[] = [];
      const skipped: ServiceProcessRecord[] = [];
      for (const record of records) {
        const now = await processes.identify(record.pid, signal);
        if (now && now.startTime !== record.startTime) {
          // The pid belongs to another process now.
          skipped.push(record);
          continue;
        }
        // Either the leader still runs (same start time), or it is gone and only members of its group
        // may remain: while a group exists its id is never handed out as a new pid, so `-pid` still
        // names our old group.
        if (processes.signalGroup(record.pid, 'SIGKILL')) {
          killed.push(record);
          log.warn({ serviceId: record.serviceId, pid: record.pid }, 'killed a service process left by an earlier node run');
        }
      }
      if (records.length > 0 || raw !== undefined) persist();
      await writing;
      return { killed, skipped };
    },
    recordSpawn(serviceId, handle) {
      void handle.identity.then((identity) => {
        if (!identity) {
          log.warn({ serviceId, pid: handle.pid }, 'cannot identify the service process; it is not recorded for clean-up');
          return;
        }
        // It may have exited while its identity was read: then there is nothing left to record.
        if (handle.hasExited()) return;
        live.set(handle.pid, { serviceId, pid: handle.pid, startTime: identity.startTime, commandLine: identity.commandLine });
        persist();
      });
    },
    recordExit(_serviceId, pid) {
      if (live.delete(pid)) persist();
    },
    flush: () => writing,
  };
}
