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
 * request), and each check decodes it: a string seen again is answered at once.
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

/** Bytes a check decodes into: kept between checks, so that checking allocates nothing. */
let scratch = Buffer.allocUnsafe(0);
const MAX_SCRATCH_BYTES = 1 << 20;

/**
 * Whether `body` (a multiple of 4 characters) is whole groups of the standard alphabet. Only ASCII
 * can be; Node's decoder reads the alphabet plus `-` and `_` (URL-safe) and skips every other
 * character, so an ASCII text without `-`, `_` and `=` is whole groups of the alphabet exactly when
 * it decodes to 3 bytes per 4 characters. `decodesWhole` is checked against decoding and encoding
 * again for every UTF-16 code unit, in the tests.
 */
function decodesWhole(body: string): boolean {
  if (Buffer.byteLength(body, 'utf8') !== body.length) return false;
  if (body.includes('=') || body.includes('-') || body.includes('_')) return false;
  const bytes = (body.length / 4) * 3;
  let target = scratch;
  if (bytes > scratch.length) {
    target = Buffer.allocUnsafe(bytes);
    if (bytes <= MAX_SCRATCH_BYTES) scratch = target;
  }
  return target.write(body, 0, bytes, 'base64') === bytes;
}

/**
 * Whether `text` is valid base64 (padded or unpadded). `""` is valid: zero bytes.
 *
 * Every group but the last is checked by `decodesWhole`: native work, about ten times faster on an
 * utterance than one regular expression over the whole text, and without a copy of the text; the
 * last group goes by the pattern.
 */
export function isBase64(text: string): boolean {
  // Equal strings compare by reference first, then by length: a miss costs next to nothing.
  if (text.length >= REMEMBER_MIN_CHARS && knownValid.includes(text)) return true;
  const rest = text.length % 4;
  const bodyLength = text.length - (rest === 0 ? Math.min(4, text.length) : rest);
  if (!FINAL_GROUP_PATTERN.test(text.slice(bodyLength))) return false;
  if (bodyLength === 0) return true;
  const valid = decodesWhole(text.slice(0, bodyLength));
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
