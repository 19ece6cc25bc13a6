/**
 * Base64 of PROTOCOL.md §0.4 and §7.4: RFC 4648 §4, standard alphabet. Output is padded; input may
 * omit the padding. Node's own decoder silently skips characters outside the alphabet, so input is
 * checked first: whether an undecodable value is an empty chunk (`audio_chunk.payload`) or a failed
 * job (`job_assign.audio`) is decided where the field is used.
 */

// Groups of four, then an optional final group of 2 or 3 characters with or without its padding.
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Whether `text` is valid base64 (padded or unpadded). `""` is valid: zero bytes. */
export function isBase64(text: string): boolean {
  return BASE64_PATTERN.test(text);
}

/** The bytes of `text`, or undefined when `text` is not valid base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64_PATTERN.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Padded standard base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
