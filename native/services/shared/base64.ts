/**
 * Strict base64 (PROTOCOL.md §7.4): the standard alphabet, padding optional on input. Node's
 * `Buffer.from(s, 'base64')` silently skips characters outside the alphabet, which would turn a
 * corrupt payload into noise; a service answers `INVALID_BASE64` instead.
 */
import { ServiceError } from './service-error.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeBase64Strict(text: string, field: string): Buffer {
  const compact = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, '') : text;
  const unpadded = compact.replace(/=+$/, '');
  if (!BASE64.test(compact) || unpadded.length % 4 === 1 || (compact.length !== unpadded.length && compact.length % 4 !== 0)) {
    throw new ServiceError(400, 'INVALID_BASE64', `${field} is not valid base64`);
  }
  return Buffer.from(unpadded, 'base64');
}
