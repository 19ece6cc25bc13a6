/**
 * OS processes, as the node's service supervision needs them: spawn a command as the leader of its
 * own process group, read its output line by line, learn when it exits, signal the whole group, and
 * recognise a pid recorded by an earlier node process (so a stale one can be killed without killing
 * a stranger that reused the pid).
 */

export type ProcessSignal = 'SIGTERM' | 'SIGKILL';

export type OutputStream = 'stdout' | 'stderr';

export interface ProcessSpec {
  /** Executable: a name looked up in PATH, or a path (relative paths resolve against `cwd`). */
  command: string;
  args: string[];
  /** Absolute working directory. */
  cwd: string;
  /** Added to the node's own environment (later keys win). */
  env: Record<string, string>;
  /** Longest line passed to `onLine`, in characters; longer lines are cut into pieces of this size. */
  maxLineChars: number;
}

/** What makes a pid the same process later: its start time and command line, as the OS reports them. */
export interface ProcessIdentity {
  pid: number;
  /** Opaque start-time token (Linux: clock ticks since boot from /proc; elsewhere `ps -o lstart`). */
  startTime: string;
  /** Command line as the OS reports it (may be truncated). */
  commandLine: string;
}

export interface ProcessExit {
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: string | null;
}

export interface ProcessHandle {
  readonly pid: number;
  /** Identity, read right after spawn (not awaited by `spawn`); undefined when the OS could not tell. */
  readonly identity: Promise<ProcessIdentity | undefined>;
  /** Resolves once the group leader has exited (the rest of its group is then killed). Never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Whether `exited` has resolved. */
  hasExited(): boolean;
  /** Sends `signal` to the whole process group; a no-op once the group is gone. */
  signalGroup(signal: ProcessSignal): void;
}

export interface ProcessPort {
  /**
   * Starts `spec` as the leader of a new process group. Resolves once the OS has started it;
   * rejects with `SPAWN_FAILED` (command not found, not executable, bad cwd). `onLine` receives
   * every complete output line (without the newline) until the process exits.
   */
  spawn(spec: ProcessSpec, onLine: (stream: OutputStream, line: string) => void, signal: AbortSignal): Promise<ProcessHandle>;
  /** Identity of a live pid, or undefined when no such process exists (or it cannot be read). */
  identify(pid: number, signal: AbortSignal): Promise<ProcessIdentity | undefined>;
  /** Sends `signal` to process group `pgid`; false when no such group exists. */
  signalGroup(pgid: number, signal: ProcessSignal): boolean;
  /** Whether any process of group `pgid` (or the pid itself) still exists. */
  groupAlive(pgid: number): boolean;
}
