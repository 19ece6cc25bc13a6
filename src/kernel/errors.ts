/**
 * One error family for the whole kernel: every error that crosses a port, an actor boundary or the
 * wire is a `KernelError` with a stable UPPER_SNAKE `code` and a `retryable` flag. Machines branch
 * on those two fields, never on `message` (STYLE.md §7).
 */

/**
 * Brand that survives duplicate installs of this package (two copies of the class in one process):
 * `isKernelError` checks the brand, not `instanceof`. `src/protocol/validation.ts` brands its
 * `MessageValidationError` with the same symbol, so it belongs to the family without importing it.
 */
export const KERNEL_ERROR_BRAND = Symbol.for('linguamesh.KernelError');

export interface KernelErrorOptions {
  /** Whether trying the same thing again later may succeed. Default false. */
  retryable?: boolean;
  /** The error this one translates (a library error, a zod error, an errno). */
  cause?: unknown;
  /** Structured data for logs and wire `details`; never speech content or tokens. */
  details?: Record<string, unknown>;
}

export class KernelError extends Error {
  readonly [KERNEL_ERROR_BRAND] = true;
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: KernelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KernelError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): { code: string; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, retryable: this.retryable, ...(this.details ? { details: this.details } : {}) };
  }
}

/** The shape every member of the family has, whichever copy of the class built it. */
export interface KernelErrorLike extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown> | undefined;
}

export function isKernelError(value: unknown): value is KernelErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<PropertyKey, unknown>)[KERNEL_ERROR_BRAND] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** A timer or deadline passed (a call, a startup, a shutdown). Retryable by default. */
export class TimeoutError extends KernelError {
  constructor(code: string, message: string, options: KernelErrorOptions = {}) {
    super(code, message, { retryable: true, ...options });
    this.name = 'TimeoutError';
  }
}

/** The operation was cancelled through its AbortSignal. Never retryable: the caller asked for it. */
export class AbortedError extends KernelError {
  constructor(message = 'operation aborted', options: KernelErrorOptions = {}) {
    super('ABORTED', message, { ...options, retryable: false });
    this.name = 'AbortedError';
  }
}

/** A machine invoked an actor that nobody provided (`machine.provide({ actors })` was missed). */
export class ActorNotProvidedError extends KernelError {
  constructor(actor: string) {
    super('ACTOR_NOT_PROVIDED', `actor "${actor}" was not provided to the machine`, { details: { actor } });
    this.name = 'ActorNotProvidedError';
  }
}

/** A supervisor's child restarted more than `maxRestarts` times within `withinMs`. */
export class SupervisorIntensityError extends KernelError {
  constructor(supervisorId: string, childId: string, cause?: unknown) {
    super('SUPERVISOR_INTENSITY_EXCEEDED', `supervisor "${supervisorId}": child "${childId}" restarted too often`, {
      cause,
      details: { supervisorId, childId },
    });
    this.name = 'SupervisorIntensityError';
  }
}

/** Configuration or options that fail validation at startup. */
export class ConfigError extends KernelError {
  constructor(message: string, options: KernelErrorOptions = {}) {
    super('INVALID_CONFIG', message, { ...options, retryable: false });
    this.name = 'ConfigError';
  }
}

/**
 * Turns anything thrown into a KernelError, keeping the original as `cause`. Adapters use it as the
 * last resort after translating the library errors they know.
 */
export function toKernelError(error: unknown, fallbackCode = 'INTERNAL_ERROR', retryable = false): KernelErrorLike {
  if (isKernelError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new KernelError(fallbackCode, message, { cause: error, retryable });
}

/**
 * HTTP status → retryable, for adapters that call HTTP peers: 5xx and 408/429/499 are worth another
 * try, every other 4xx is not (STYLE.md §7).
 */
export function isRetryableHttpStatus(status: number): boolean {
  if (status >= 500) return true;
  return status === 408 || status === 429 || status === 499;
}
