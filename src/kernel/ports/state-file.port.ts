/**
 * Small JSON documents the node keeps in its data directory (the operator's enabled/disabled
 * choices, the pids of the service processes it started). Writes are atomic: a reader, or a node
 * killed halfway, sees the old document or the new one, never a mix.
 */

export interface StateFileWriteOptions {
  /**
   * `durable`: flushed to disk before the rename, so it also survives a power loss (the operator's
   * choices). `atomic`: atomic for readers and for a killed process only (pid records, which a power
   * loss makes moot anyway).
   */
  mode: 'durable' | 'atomic';
}

export interface StateFilePort {
  /** The document at `path`, or undefined when there is none. Rejects with `STATE_FILE_UNREADABLE` when it is not JSON. */
  read(path: string, signal: AbortSignal): Promise<unknown>;
  /** Replaces the document at `path` (write to a temporary file, then rename), creating its directory. */
  write(path: string, value: unknown, options: StateFileWriteOptions, signal: AbortSignal): Promise<void>;
}
