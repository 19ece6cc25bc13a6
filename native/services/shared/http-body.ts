/**
 * Reading a request body at the door: bounded in bytes, parsed as JSON, then checked against a zod
 * schema (STYLE.md §6). Every failure is a `ServiceError` with its own code, so a bad request is a
 * 4xx JSON answer and never a crash.
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { ServiceError } from './service-error.js';

/**
 * Collects the body up to `maxBytes`. Past the limit it keeps draining (and discarding) what the
 * client still sends, up to `drainLimitBytes`, so the 413 answer can be read by a client that is
 * still writing; a client that sends even more gets its connection destroyed.
 */
export function readBody(req: IncomingMessage, maxBytes: number, drainLimitBytes = maxBytes * 4): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    if (Number.isFinite(declared) && declared > drainLimitBytes) {
      // Far too large to be worth reading: answer now; the connection closes after the answer.
      req.resume();
      reject(tooLargeError(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (received > drainLimitBytes) {
          req.destroy();
          reject(tooLargeError(maxBytes));
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(tooLargeError(maxBytes)) : resolve(Buffer.concat(chunks, received))));
    req.on('error', (err) => reject(new ServiceError(400, 'INVALID_REQUEST', 'request body could not be read', { cause: err })));
  });
}

function tooLargeError(maxBytes: number): ServiceError {
  return new ServiceError(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
}

export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw new ServiceError(400, 'INVALID_JSON', 'request body is empty; a JSON object is required');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new ServiceError(400, 'INVALID_JSON', 'request body is not valid JSON', { cause: err });
  }
}

/** Checks a parsed body; the detail names each bad field (never its value: it may be speech). */
export function parseRequest<TSchema extends z.ZodType>(schema: TSchema, value: unknown): z.infer<TSchema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const detail = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ');
  throw new ServiceError(400, 'INVALID_REQUEST', `invalid request: ${detail}`);
}
