/**
 * `/ws/session` (PROTOCOL.md §6): each client frame, in arrival order, parsed at the door and
 * handed to its session.
 *
 * - An invalid frame (not JSON, unknown type, a field of the wrong type, larger than
 *   `max_frame_bytes`) gets `error INVALID_MESSAGE` "Invalid message format: …" and the socket
 *   stays open (§1.3, §1.5); `room_*` gets UNSUPPORTED_FEATURE and `webrtc_*` nothing (§6.9).
 * - A message naming a session of this socket that was closed gets SESSION_CLOSED; one naming no
 *   session of this socket gets INVALID_SESSION "Session does not exist" (§6).
 * - `session_init` → `session_init_ack`; `audio_chunk` and `utterance` → the session machine;
 *   `client_heartbeat` → `server_heartbeat`; `session_close` → finalize, then `session_close_ack`;
 *   `tts_started` / `tts_play_ended` → the playback window.
 */
import type { Clock } from '../../kernel/clock.js';
import type { Logger } from '../../kernel/logger.js';
import type { LinkConnection, LinkHandler } from '../../kernel/ports/link.port.js';
import { encodeFrame, parseClientToScheduler } from '../../protocol/index.js';
import type { ClientToSchedulerMessage, SchedulerToClientMessage } from '../../protocol/index.js';
import { measureChunk, prepareUtterance } from './session-audio.js';
import { initAckOf, settingsOf } from './session-settings.js';
import type { Sessions } from './sessions.actor.js';

export interface SessionLinkOptions {
  sessions: Sessions;
  clock: Clock;
  logger: Logger;
  /** Largest text frame handled, in bytes (§1.3). */
  maxFrameBytes: number;
}

function reply(conn: LinkConnection, message: SchedulerToClientMessage): void {
  conn.send(encodeFrame(message));
}

function invalid(conn: LinkConnection, reason: string): void {
  reply(conn, { type: 'error', code: 'INVALID_MESSAGE', message: `Invalid message format: ${reason}` });
}

export function createSessionLinkHandler(options: SessionLinkOptions): LinkHandler {
  const { sessions, clock } = options;
  const log = options.logger.child({ actor: 'session-link' });

  const handle = (conn: LinkConnection, message: Exclude<ClientToSchedulerMessage, { type: 'session_init' }>): void => {
    const found = sessions.lookup(conn, message.session_id);
    if (found.kind === 'closed') {
      reply(conn, { type: 'error', code: 'SESSION_CLOSED', message: 'Session is closed', details: { session_id: message.session_id } });
      return;
    }
    if (found.kind === 'unknown') {
      reply(conn, { type: 'error', code: 'INVALID_SESSION', message: 'Session does not exist', details: { session_id: message.session_id } });
      return;
    }
    const { entry } = found;
    switch (message.type) {
      case 'audio_chunk': {
        const chunk = measureChunk(message.payload, entry.settings.audioFormat);
        sessions.send(entry, { type: 'session.audio', bytes: chunk.bytes, durationMs: chunk.durationMs, isFinal: message.is_final, at: clock.now() });
        return;
      }
      case 'utterance': {
        const prepared = prepareUtterance(message);
        if (!prepared.ok) {
          invalid(conn, prepared.reason);
          return;
        }
        sessions.send(entry, { type: 'session.utterance', index: message.utterance_index, utterance: prepared.utterance });
        return;
      }
      case 'client_heartbeat':
        sessions.send(entry, { type: 'session.heard' });
        reply(conn, { type: 'server_heartbeat', session_id: message.session_id, timestamp: clock.now() });
        return;
      case 'session_close':
        // §6.6: buffered audio is finalized before the ack; jobs in flight still deliver.
        sessions.send(entry, { type: 'session.close', reason: 'client' });
        reply(conn, { type: 'session_close_ack', session_id: message.session_id });
        return;
      case 'tts_started':
        sessions.send(entry, { type: 'session.ttsStarted' });
        return;
      case 'tts_play_ended':
        sessions.send(entry, { type: 'session.ttsEnded', at: clock.now() });
        return;
      default: {
        const never: never = message;
        return never;
      }
    }
  };

  return {
    opened(conn) {
      sessions.connectionOpened(conn);
      log.debug({ conn: conn.id }, 'session connection opened');
    },
    frame(conn, data) {
      const parsed = parseClientToScheduler(data, options.maxFrameBytes);
      if (!parsed.ok) {
        const disposition = parsed.error.details.disposition;
        log.debug({ conn: conn.id, bytes: data.byteLength, type: parsed.error.details.type, disposition }, 'session message refused');
        if (disposition === 'ignored') return;
        if (disposition === 'unsupported') {
          reply(conn, { type: 'error', code: 'UNSUPPORTED_FEATURE', message: parsed.error.reason });
          return;
        }
        invalid(conn, parsed.error.reason);
        return;
      }
      const message = parsed.value;
      if (message.type === 'session_init') {
        const settings = sessions.start(conn, settingsOf(message));
        reply(conn, initAckOf(settings));
        return;
      }
      handle(conn, message);
    },
    closed(conn, code) {
      log.debug({ conn: conn.id, code }, 'session connection closed');
      sessions.connectionClosed(conn);
    },
  };
}
