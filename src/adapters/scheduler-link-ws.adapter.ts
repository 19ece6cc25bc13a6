/**
 * The SchedulerLinkPort over `ws`: one WebSocket client per connection to `/ws/node`.
 *
 * - Every text frame is parsed with `parseSchedulerToNode` (bounded by `max_frame_bytes`). An
 *   invalid frame is logged (warn, without its body) and ignored, an unknown `type` is logged at
 *   debug and ignored, a binary frame is ignored (PROTOCOL.md §1.3, §1.5): none of them gets a reply.
 * - Frames are reported synchronously in arrival order (§1.3), each preceded by `activity`; pongs
 *   and pings report `activity` only.
 * - An unexpected close or a failed connect becomes one `closed` event carrying a KernelError.
 * - The token goes in `Authorization: Bearer` (§1.2) and is never logged.
 */
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { KernelError } from '../kernel/errors.js';
import type { KernelErrorLike } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import type { SchedulerConnection, SchedulerLinkEvent, SchedulerLinkPort, SchedulerLinkTarget } from '../kernel/ports/scheduler-link.port.js';
import { parseSchedulerToNode, SCHEDULER_TO_NODE_TYPES } from '../protocol/node-link.schema.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame } from '../protocol/validation.js';

export interface WsSchedulerLinkOptions {
  logger?: Logger;
  /** Largest text frame parsed, in bytes (`max_frame_bytes`, §1.3). Frames up to 4× are read and refused; larger ones close the socket (1009). */
  maxFrameBytes?: number;
  /** Time a graceful close may take before the socket is dropped, in ms. Default 2 000. */
  closeTimeoutMs?: number;
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function errorOf(err: Error): KernelErrorLike {
  const errno = (err as NodeJS.ErrnoException).code;
  const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  if (status !== undefined) return new KernelError(status === '401' ? 'UNAUTHORIZED' : 'LINK_UPGRADE_REFUSED', `scheduler refused the upgrade with HTTP ${status}`, { cause: err, retryable: true, details: { status: Number(status) } });
  return new KernelError(errno === 'ECONNREFUSED' ? 'LINK_REFUSED' : 'LINK_FAILED', err.message, { cause: err, retryable: true, ...(errno ? { details: { errno } } : {}) });
}

export function createWsSchedulerLink(options: WsSchedulerLinkOptions = {}): SchedulerLinkPort {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
  const log = options.logger;

  return {
    connect(target: SchedulerLinkTarget, onEvent: (event: SchedulerLinkEvent) => void): SchedulerConnection {
      const ws = new WebSocket(target.url, {
        ...(target.authToken ? { headers: { Authorization: `Bearer ${target.authToken}` } } : {}),
        maxPayload: 4 * maxFrameBytes,
      });
      // After the node closes the connection itself, the machine has moved on: report nothing more.
      let silenced = false;
      let failure: KernelErrorLike | undefined;
      const report = (event: SchedulerLinkEvent) => {
        if (!silenced) onEvent(event);
      };

      ws.on('open', () => {
        report({ type: 'activity' });
        report({ type: 'opened' });
      });
      ws.on('ping', () => report({ type: 'activity' }));
      ws.on('pong', () => report({ type: 'activity' }));
      ws.on('message', (data: RawData, isBinary: boolean) => {
        report({ type: 'activity' });
        if (isBinary) {
          log?.debug({ bytes: rawToBuffer(data).byteLength }, 'binary frame from the scheduler ignored');
          return;
        }
        const raw = rawToBuffer(data);
        const parsed = parseSchedulerToNode(raw, maxFrameBytes);
        if (parsed.ok) {
          if (parsed.dropped.length > 0) log?.warn({ type: parsed.value.type, dropped: parsed.dropped }, 'invalid list items dropped from a scheduler message');
          report({ type: 'message', message: parsed.value });
          return;
        }
        const type = parsed.error.details.type;
        if (typeof type === 'string' && !SCHEDULER_TO_NODE_TYPES.has(type as never) && parsed.error.issues.some((i) => i.path === 'type')) {
          log?.debug({ type, bytes: raw.byteLength }, 'scheduler message of unknown type ignored');
        } else {
          log?.warn({ type, bytes: raw.byteLength, reason: parsed.error.reason }, 'invalid scheduler message ignored');
        }
      });
      ws.on('error', (err: Error) => {
        failure ??= errorOf(err);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        const text = reason.toString('utf8');
        const error = failure ?? (code === 1000 ? undefined : new KernelError('LINK_CLOSED', `connection closed with code ${code}`, { retryable: true, details: { code, reason: text } }));
        report({ type: 'closed', code, reason: text, ...(error ? { error } : {}) });
        silenced = true;
      });

      const terminate = () => {
        silenced = true;
        ws.terminate();
      };

      return {
        send(message) {
          if (ws.readyState !== WebSocket.OPEN) return false;
          ws.send(encodeFrame(message));
          return true;
        },
        ping() {
          if (ws.readyState === WebSocket.OPEN) ws.ping();
        },
        close(code = 1000, reason = '') {
          if (silenced && ws.readyState === WebSocket.CLOSED) return;
          silenced = true;
          if (ws.readyState === WebSocket.OPEN) {
            ws.close(code, reason);
            // A peer that never answers the close frame must not keep the socket (and the process) alive.
            setTimeout(() => ws.terminate(), closeTimeoutMs).unref();
          } else if (ws.readyState === WebSocket.CONNECTING) {
            ws.terminate();
          }
        },
        terminate,
      };
    },
  };
}
