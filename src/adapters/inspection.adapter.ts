/**
 * Receivers of XState's inspection stream: the Stately inspector (over its WebSocket inspector) and
 * a JSON-lines recorder for replaying what happened on a headless render farm (`--record FILE`).
 */
import { createWriteStream } from 'node:fs';
import type { InspectionEvent } from 'xstate';
import { createInspector } from '@statelyai/inspect';
import { WebSocket } from 'ws';
import type { InspectionObserver } from '../kernel/system.js';

/** Longest string kept in a recorded event; longer ones (base64 audio) are cut. */
const MAX_STRING_CHARS = 256;

function actorInfo(ref: unknown): { id?: string; sessionId?: string } | undefined {
  if (!ref || typeof ref !== 'object') return undefined;
  const r = ref as { id?: unknown; sessionId?: unknown };
  return { ...(typeof r.id === 'string' ? { id: r.id } : {}), ...(typeof r.sessionId === 'string' ? { sessionId: r.sessionId } : {}) };
}

/** A JSON-safe copy: actor refs become their ids, functions are dropped, long strings are cut, cycles end. */
export function toRecordable(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_STRING_CHARS ? `${value.slice(0, MAX_STRING_CHARS)}…(${value.length} chars)` : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (seen.has(value) || depth > 8) return '[…]';
  seen.add(value);
  if (value instanceof Error) return { name: value.name, message: value.message, ...((value as { code?: unknown }).code ? { code: (value as { code?: unknown }).code } : {}) };
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if ('sessionId' in value && 'send' in value && typeof (value as { send: unknown }).send === 'function') return { actor: actorInfo(value) };
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => toRecordable(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'pii' || key === 'token' || key === 'authToken') continue;
    const copy = toRecordable(v, depth + 1, seen);
    if (copy !== undefined) out[key] = copy;
  }
  return out;
}

/** One line per inspection event: `{ at, type, actor, source?, event?, snapshot? }`. */
export function inspectionRecord(event: InspectionEvent, at: number): Record<string, unknown> {
  const record: Record<string, unknown> = { at, type: event.type, actor: actorInfo(event.actorRef) };
  switch (event.type) {
    case '@xstate.event':
      record.source = actorInfo(event.sourceRef);
      record.event = toRecordable(event.event);
      break;
    case '@xstate.snapshot': {
      const snapshot = event.snapshot as { status?: unknown; value?: unknown; context?: unknown };
      record.event = toRecordable(event.event);
      record.snapshot = toRecordable({ status: snapshot.status, value: snapshot.value, context: snapshot.context });
      break;
    }
    case '@xstate.action':
      record.action = toRecordable({ type: event.action.type, params: event.action.params });
      break;
    case '@xstate.microstep':
      record.value = toRecordable((event.snapshot as { value?: unknown }).value);
      break;
    default:
      break;
  }
  return record;
}

export interface Recorder {
  observer: InspectionObserver;
  /** Flushes and closes the file. Idempotent. */
  close(): Promise<void>;
}

/** Appends the inspection stream to `file` as JSON lines. */
export function createJsonlRecorder(file: string, now: () => number = Date.now): Recorder {
  const stream = createWriteStream(file, { flags: 'a' });
  stream.on('error', () => {
    /* a full disk must not take the role down; the recording simply stops */
  });
  let closing: Promise<void> | undefined;
  return {
    observer: (event) => {
      if (closing) return;
      stream.write(`${JSON.stringify(inspectionRecord(event, now()))}\n`);
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => stream.end(resolve));
      return closing;
    },
  };
}

export interface StatelyInspector {
  observer: InspectionObserver;
  /** The inspector endpoint streamed to. */
  url: string;
  /** Closes the socket and ends the reconnects; later events are dropped. Idempotent. */
  stop(): void;
}

/** Longest string sent to the inspector besides machine definitions (base64 audio is cut). */
const MAX_INSPECTOR_STRING_CHARS = 4_096;

/** JSON of an inspector event: cycles end, actor refs become their ids, secrets and speech text go, long strings are cut. */
function inspectorJson(event: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(event, (key, value: unknown) => {
    if (key === 'pii' || key === 'token' || key === 'authToken') return undefined;
    if (typeof value === 'string') return key !== 'definition' && value.length > MAX_INSPECTOR_STRING_CHARS ? `${value.slice(0, MAX_INSPECTOR_STRING_CHARS)}…(${value.length} chars)` : value;
    if (typeof value === 'bigint') return value.toString();
    if (typeof value !== 'object' || value === null) return value;
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if ('sessionId' in value && 'send' in value && typeof (value as { send: unknown }).send === 'function') return { actor: actorInfo(value) };
    if (seen.has(value)) return '[…]';
    seen.add(value);
    return value;
  });
}

/** Events kept while the inspector is not connected; the oldest go first. */
const MAX_DEFERRED_EVENTS = 1_000;
const RECONNECT_MS = 2_000;

/**
 * Streams the actors to a Stately inspector WebSocket endpoint (default ws://localhost:8080), in
 * the inspector's own event format (`createInspector` of @statelyai/inspect). The socket is ours
 * rather than the library's, whose reconnect loop outlives `stop()` and would keep the process up:
 * here the reconnect timer is unref'd and `stop()` ends everything.
 */
export function createStatelyInspector(url = 'ws://localhost:8080'): StatelyInspector {
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const deferred: string[] = [];
  const connect = (): void => {
    if (stopped) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.on('open', () => {
      for (const line of deferred.splice(0)) ws.send(line);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (stopped || socket !== ws) return;
      socket = undefined;
      timer = setTimeout(connect, RECONNECT_MS);
      timer.unref();
    });
  };
  const adapter = {
    start: connect,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      socket?.terminate();
      socket = undefined;
      deferred.length = 0;
    },
    send: (event: unknown) => {
      if (stopped) return;
      const line = inspectorJson(event);
      if (socket?.readyState === WebSocket.OPEN) socket.send(line);
      else if (deferred.push(line) > MAX_DEFERRED_EVENTS) deferred.shift();
    },
  };
  const inspector = createInspector(adapter);
  inspector.start();
  return {
    observer: (event) => {
      if (!stopped) inspector.inspect.next?.(event);
    },
    url,
    stop: () => inspector.stop(),
  };
}
