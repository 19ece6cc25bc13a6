/**
 * TCP ports on the loopback interface, for choosing where a local service listens (PROTOCOL.md
 * §9.8): whether a port can be bound right now, and a port the OS considers free.
 */

export interface LoopbackPortPort {
  /** Whether `127.0.0.1:<port>` can be bound now (false when any process listens on it). */
  isFree(port: number, signal: AbortSignal): Promise<boolean>;
  /** A port the OS hands out as free on 127.0.0.1. Rejects with `NO_FREE_PORT`. */
  pickFree(signal: AbortSignal): Promise<number>;
}
