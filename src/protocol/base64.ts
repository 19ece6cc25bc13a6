/**
 * Base64 of PROTOCOL.md §0.4 and §7.4: RFC 4648 §4, standard alphabet. Output is padded; input may
 * omit the padding. Node's own decoder silently skips characters outside the alphabet, so input is
 * checked first: whether an undecodable value is an empty chunk (`audio_chunk.payload`) or a failed
 * job (`job_assign.audio`) is decided where the field is used.
 */

// The last group of four, or a final group of 2 or 3 characters, with or without its padding.
const FINAL_GROUP_PATTERN = /^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/**
 * Long strings lately found valid, or made by `encodeBase64`. One utterance's audio is checked at
 * several doors of one process (the job's guard, its decoder, the encoder of the next frame or
 * request), and each check decodes and re-encodes it: a string seen again is answered at once.
 * Bounded: the last 4 strings of 4 KiB to 1 MiB characters, at most 4 MiB held. A cache only: the
 * answer is the same with or without it.
 */
const REMEMBERED = 4;
const REMEMBER_MIN_CHARS = 4_096;
const REMEMBER_MAX_CHARS = 1 << 20;
const knownValid: string[] = [];

function rememberValid(text: string): void {
  if (text.length < REMEMBER_MIN_CHARS || text.length > REMEMBER_MAX_CHARS) return;
  if (knownValid.length === REMEMBERED) knownValid.shift();
  knownValid.push(text);
}

/**
 * Whether `text` is valid base64 (padded or unpadded). `""` is valid: zero bytes.
 *
 * Every group but the last is checked by decoding and encoding it again: whole groups of four
 * alphabet characters come back unchanged, anything else does not (Node's decoder skips or
 * reinterprets `-`, `_`, whitespace); padding before the last group is refused apart. That is
 * native work, about ten times faster on an utterance than one regular expression over the whole
 * text; the last group goes by the pattern.
 */
export function isBase64(text: string): boolean {
  // Equal strings compare by reference first, then by length: a miss costs next to nothing.
  if (text.length >= REMEMBER_MIN_CHARS && knownValid.includes(text)) return true;
  const rest = text.length % 4;
  const bodyLength = text.length - (rest === 0 ? Math.min(4, text.length) : rest);
  if (!FINAL_GROUP_PATTERN.test(text.slice(bodyLength))) return false;
  if (bodyLength === 0) return true;
  const body = text.slice(0, bodyLength);
  // A padded group (`AQ==`) comes back unchanged too, but padding belongs only in the last group.
  const valid = !body.includes('=') && Buffer.from(body, 'base64').toString('base64') === body;
  if (valid) rememberValid(text);
  return valid;
}

/** The bytes of `text`, or undefined when `text` is not valid base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!isBase64(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Padded standard base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  rememberValid(text);
  return text;
}
