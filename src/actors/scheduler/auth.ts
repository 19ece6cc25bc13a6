/**
 * The shared-secret check of PROTOCOL.md §1.2: `Authorization: Bearer <token>` or the query
 * parameter `token`; when the header is present only the header counts. The comparison is
 * constant-time: both sides are hashed to equal-length digests first, so neither the content nor
 * the length of the expected token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares two secrets in time independent of where they differ. */
export function tokensEqual(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

const BEARER = /^Bearer\s+(.+)$/i;

/**
 * Whether a request carries `expected`. `authorization` is the header value (if any); `query` the
 * request's query parameters.
 */
export function isAuthorized(expected: string, authorization: string | undefined, query: URLSearchParams): boolean {
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization.trim());
    return match !== null && tokensEqual(expected, match[1]!.trim());
  }
  const token = query.get('token');
  return token !== null && tokensEqual(expected, token);
}
