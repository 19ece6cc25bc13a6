/**
 * The one error type a service handler throws. Its `status` and `code` become the HTTP answer
 * `{detail, code}` (PROTOCOL.md §9.1: linguamesh services add a stable `code` to the Lingua `detail`).
 */

/** Every code a reference service answers with; codes are API, messages are for people. */
export const SERVICE_ERROR_CODES = [
  'INVALID_JSON',
  'INVALID_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'NOT_READY',
  'SERVICE_BUSY',
  'SHUTTING_DOWN',
  'EMPTY_TEXT',
  'TEXT_TOO_LONG',
  'EMPTY_AUDIO',
  'AUDIO_TOO_LONG',
  'INVALID_BASE64',
  'INVALID_AUDIO',
  'UNSUPPORTED_AUDIO_FORMAT',
  'UNSUPPORTED_LANGUAGE',
  'UNSUPPORTED_LANGUAGE_PAIR',
  'UNKNOWN_VOICE',
  'ENGINE_FAILED',
  'ENGINE_TIMEOUT',
  'INTERNAL_ERROR',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

export class ServiceError extends Error {
  readonly status: number;
  readonly code: ServiceErrorCode;
  /** Extra response headers, e.g. `Retry-After` on a 503. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: ServiceErrorCode, detail: string, options: { cause?: unknown; headers?: Record<string, string> } = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}
