/**
 * `/ws/session` until client sessions are served (issue "Jobs end to end"): the path exists and
 * speaks the PROTOCOL.md error form, so a client learns why nothing happens. An invalid frame gets
 * `error INVALID_MESSAGE` "Invalid message format: …" (§1.5), a `room_*` frame
 * `UNSUPPORTED_FEATURE`, a `webrtc_*` frame nothing (§6.9), and every valid message
 * `UNSUPPORTED_FEATURE`. The connection stays open. Replace this module to serve sessions.
 */
import type { Logger } from '../../kernel/logger.js';
import type { LinkHandler } from '../../kernel/ports/link.port.js';
import { encodeFrame, parseClientToScheduler } from '../../protocol/index.js';
import type { SessionError } from '../../protocol/index.js';

export interface SessionLinkOptions {
  logger: Logger;
  /** Largest text frame handled, in bytes (§1.3). */
  maxFrameBytes: number;
}

export function createSessionLinkHandler(options: SessionLinkOptions): LinkHandler {
  const log = options.logger.child({ actor: 'sessions' });
  const answer = (error: SessionError) => encodeFrame(error);
  return {
    opened(conn) {
      log.debug({ conn: conn.id }, 'session connection opened');
    },
    frame(conn, data) {
      const parsed = parseClientToScheduler(data, options.maxFrameBytes);
      if (parsed.ok) {
        log.debug({ conn: conn.id, type: parsed.value.type }, 'session message refused: sessions are not served yet');
        conn.send(answer({ type: 'error', code: 'UNSUPPORTED_FEATURE', message: 'Sessions are not served by this scheduler yet', details: { type: parsed.value.type } }));
        return;
      }
      const disposition = parsed.error.details.disposition;
      if (disposition === 'ignored') return;
      if (disposition === 'unsupported') {
        conn.send(answer({ type: 'error', code: 'UNSUPPORTED_FEATURE', message: parsed.error.reason }));
        return;
      }
      conn.send(answer({ type: 'error', code: 'INVALID_MESSAGE', message: `Invalid message format: ${parsed.error.reason}` }));
    },
    closed(conn, code) {
      log.debug({ conn: conn.id, code }, 'session connection closed');
    },
  };
}
