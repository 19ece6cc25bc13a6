/**
 * Parsing at the door (STYLE.md §6). Every wire message, HTTP body and document is parsed here into a
 * typed value or a `MessageValidationError` that names the fields; a raw zod error never crosses a
 * boundary. Tolerance rules of PROTOCOL.md §1.4–§1.5: unknown members are ignored, `null` means
 * absent, and an invalid item in one of the lenient lists is dropped with a warning instead of
 * failing the whole message.
 */
import { z } from 'zod';
import { isBase64 } from './base64.js';
import { DEFAULT_MAX_FRAME_BYTES } from './frame-limits.js';

/** Same brand as `src/kernel/errors.ts`: this error is a member of the KernelError family. */
const KERNEL_ERROR_BRAND = Symbol.for('linguamesh.KernelError');

/** One problem found while parsing: a dotted path and what was wrong there. */
export interface ProtocolIssue {
  path: string;
  message: string;
}

/** An invalid message or document (PROTOCOL.md §1.5). Code `INVALID_MESSAGE`, never retryable. */
export class MessageValidationError extends Error {
  readonly [KERNEL_ERROR_BRAND] = true;
  readonly code = 'INVALID_MESSAGE';
  readonly retryable = false;
  readonly issues: ProtocolIssue[];
  readonly details: Record<string, unknown>;

  constructor(message: string, issues: ProtocolIssue[], details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MessageValidationError';
    this.issues = issues;
    this.details = { ...details, issues };
  }

  /** A one-line summary naming the fields, for `details.reason` and `Invalid message format: …`. */
  get reason(): string {
    return this.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  }
}

/** An item removed from a lenient list (PROTOCOL.md §1.5 "Invalid list items"). */
export interface DroppedItem {
  path: string;
  reason: string;
}

export type ParseResult<T> =
  | { ok: true; value: T; dropped: DroppedItem[] }
  | { ok: false; error: MessageValidationError };

// Parsing is synchronous, so one module-level collector per parse call is enough to gather the
// items that lenient lists drop, without threading a context through zod.
let collector: DroppedItem[] | undefined;

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

function toIssues(error: z.ZodError): ProtocolIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/**
 * A list in which an item that fails `item` is dropped (and recorded) instead of failing the
 * message. A value that is not an array at all still fails.
 */
export function lenientList<T extends z.ZodType>(item: T, label: string) {
  return z.array(z.unknown()).transform((items) => {
    const kept: z.output<T>[] = [];
    items.forEach((raw, index) => {
      const parsed = item.safeParse(raw);
      if (parsed.success) {
        kept.push(parsed.data);
      } else {
        collector?.push({
          path: `${label}[${index}]`,
          reason: parsed.error.issues.map((i) => `${formatPath(i.path) || 'item'}: ${i.message}`).join('; '),
        });
      }
    });
    return kept;
  });
}

/**
 * Optional on input: absent and `null` both mean "no value" (PROTOCOL.md §1.4). The parsed value
 * holds `undefined` instead of `null`, and the inferred type makes the key optional, so senders
 * build values without spelling out every absent field (`encodeFrame` omits them).
 */
export function opt<T extends z.ZodType>(schema: T) {
  return schema
    .nullish()
    .transform((v): z.output<T> | undefined => (v === null ? undefined : v))
    .optional();
}

/**
 * An open dictionary (`details`, `meta`, `diagnostics`, …): any JSON object, kept with all its
 * members. Unknown members are stripped everywhere else, so open objects must say so.
 */
export const OpenObject = z.record(z.string(), z.unknown());

/** PROTOCOL.md §0.4 `int`: integer ≥ 0. */
export const Int = z.number().int().nonnegative();
/** PROTOCOL.md §0.4 `i64`: any integer. */
export const I64 = z.number().int();
/** PROTOCOL.md §0.4 `epoch_ms`. */
export const EpochMs = Int;

function summarize(issues: readonly ProtocolIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * Parses `input` with `schema`, returning a typed value or a MessageValidationError. Never throws.
 * `details` is copied into the error's details (e.g. the received `type`).
 */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown, what = 'message', details: Record<string, unknown> = {}): ParseResult<z.output<T>> {
  const previous = collector;
  const dropped: DroppedItem[] = [];
  collector = dropped;
  try {
    const result = schema.safeParse(input);
    if (result.success) return { ok: true, value: result.data, dropped };
    const issues = toIssues(result.error);
    return { ok: false, error: new MessageValidationError(`invalid ${what}: ${summarize(issues)}`, issues, details) };
  } finally {
    collector = previous;
  }
}

/** Parses or throws the MessageValidationError (for config and documents read at startup). */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, what = 'document'): z.output<T> {
  const result = parseWith(schema, input, what);
  if (!result.ok) throw result.error;
  return result.value;
}

export { DEFAULT_MAX_FRAME_BYTES };

/**
 * Decodes one WebSocket text frame into a JSON value. A frame over `maxFrameBytes` is discarded
 * unparsed (PROTOCOL.md §1.3); a frame that is not JSON, or JSON that is not an object with a string
 * `type`, is invalid (§1.5).
 */
export function decodeFrame(data: string | Buffer, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): ParseResult<{ type: string } & Record<string, unknown>> {
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > maxFrameBytes) {
    return { ok: false, error: new MessageValidationError(`frame of ${size} bytes exceeds max_frame_bytes ${maxFrameBytes}`, [{ path: '', message: `frame of ${size} bytes exceeds max_frame_bytes ${maxFrameBytes}` }], { frameBytes: size }) };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, error: new MessageValidationError('frame is not valid JSON', [{ path: '', message: 'not valid JSON' }]) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new MessageValidationError('frame is not a JSON object', [{ path: '', message: 'not a JSON object' }]) };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, error: new MessageValidationError('frame has no string "type"', [{ path: 'type', message: 'missing or not a string' }]) };
  }
  return { ok: true, value: value as { type: string } & Record<string, unknown>, dropped: [] };
}

/**
 * Output form of a value: keys whose value is `undefined` or `null` are omitted, recursively
 * (PROTOCOL.md §1.4 "on output, a field without a value is omitted, never null").
 */
export function toWire<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => toWire(v)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      out[k] = toWire(v);
    }
    return out as T;
  }
  return value;
}

/**
 * Strings from this length on that are base64 (audio) are written without JSON.stringify, which
 * scans every character for escapes: 0.32 ms for one 94 KiB utterance on V8 11, where `isBase64`
 * takes 0.06 ms and proves that there is nothing to escape.
 */
const VERBATIM_MIN_CHARS = 4_096;

/**
 * `JSON.stringify(value)` for an object, faster to write and to read when some of its own members
 * are long base64 strings. Writing: those members are copied as they are, not scanned. Reading: they
 * come right after `type` and before every other member. A reader decodes a frame's UTF-8 with a
 * fast ASCII scan up to the first non-ASCII byte and byte by byte after it (V8 11: 11 µs for a
 * 94 KiB result frame whose Spanish text follows its audio, 137 µs when the text comes first); so no
 * translated text may come before the audio. The same JSON value either way; only the order of the
 * members differs.
 */
export function encodeJson(value: object): string {
  let rest: Record<string, unknown> | undefined;
  let verbatim = '';
  for (const [key, member] of Object.entries(value)) {
    if (typeof member !== 'string' || member.length < VERBATIM_MIN_CHARS || !isBase64(member)) continue;
    rest ??= { ...value } as Record<string, unknown>;
    delete rest[key];
    verbatim += `,${JSON.stringify(key)}:"${member}"`;
  }
  if (rest === undefined) return JSON.stringify(value);
  let head = '';
  if (typeof rest.type === 'string') {
    head = `"type":${JSON.stringify(rest.type)}`;
    delete rest.type;
  } else {
    verbatim = verbatim.slice(1);
  }
  const others = JSON.stringify(rest);
  return `{${head}${verbatim}${others === '{}' ? '' : `,${others.slice(1, -1)}`}}`;
}

/** Serializes a message for a text frame, with optional fields omitted. */
export function encodeFrame(message: { type: string }): string {
  return encodeJson(toWire(message));
}

const MAX_REPORTED_TYPE_CHARS = 64;

/** How one link direction reads its frames (see `parseFrameWith`). */
export interface FrameParseOptions {
  /** Every `type` this direction of the link defines. */
  knownTypes: ReadonlySet<string>;
  /** What the messages are called in error texts, e.g. `node message`. */
  what: string;
  /** Largest accepted frame, in bytes (PROTOCOL.md §1.3 `max_frame_bytes`). Default 8 MiB. */
  maxFrameBytes?: number;
  /**
   * Describes a `type` outside `knownTypes` that the link still recognizes (e.g. an out-of-scope
   * `room_*` message): the issue text and extra error details. Undefined: a plain unknown type.
   */
  describeUnknownType?: (type: string) => { message: string; details: Record<string, unknown> } | undefined;
}

/**
 * One text frame to one typed message: `decodeFrame`, then the `type` against the types of this
 * link direction, then the schema. An unknown `type` is an invalid message whose issue names `type`
 * (PROTOCOL.md §1.5). Every error of a frame that had a string `type` carries it in
 * `details.type`, which the scheduler echoes in `node_error.details.type`.
 */
export function parseFrameWith<T extends z.ZodType>(schema: T, data: string | Buffer, options: FrameParseOptions): ParseResult<z.output<T>> {
  const frame = decodeFrame(data, options.maxFrameBytes);
  if (!frame.ok) return frame;
  // The type goes into error texts and logs: a peer must not be able to make it arbitrarily long.
  const type = frame.value.type.length > MAX_REPORTED_TYPE_CHARS ? `${frame.value.type.slice(0, MAX_REPORTED_TYPE_CHARS)}…` : frame.value.type;
  if (!options.knownTypes.has(frame.value.type)) {
    const known = options.describeUnknownType?.(frame.value.type);
    const issues = [{ path: 'type', message: known?.message ?? `unknown message type "${type}"` }];
    return { ok: false, error: new MessageValidationError(`invalid ${options.what}: ${summarize(issues)}`, issues, { type, ...known?.details }) };
  }
  return parseWith(schema, frame.value, options.what, { type });
}
