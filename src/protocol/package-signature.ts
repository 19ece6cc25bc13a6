/**
 * Package signatures (PROTOCOL.md §10.6): a detached Ed25519 signature over the ASCII bytes of the
 * lower-case hex sha256 of a zip. Hub keys are configured on a node as raw 32-byte public keys in
 * base64, by `key_id`; linguamesh derives a key's id from the key itself (the first 16 hex digits
 * of the sha256 of the raw public key), so a signer and a node agree on it without a registry.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const ED25519_RAW_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

/** The `key_id` of a raw Ed25519 public key. */
export function packageKeyId(publicKeyRaw: Uint8Array): string {
  return createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
}

function rawPublicKeyOf(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

/** Raw public key (base64) and key id of an Ed25519 private key in PEM (PKCS#8). Throws on another key type. */
export function describeSigningKey(privateKeyPem: string): { keyId: string; publicKey: string } {
  const raw = rawPublicKeyOf(createPublicKey(createPrivateKey(privateKeyPem)));
  return { keyId: packageKeyId(raw), publicKey: raw.toString('base64') };
}

/** Signs a zip's sha256 (64 lower-case hex digits) with an Ed25519 private key in PEM. */
export function signPackageDigest(sha256Hex: string, privateKeyPem: string): { alg: 'ed25519'; key_id: string; signature: string } {
  const key = createPrivateKey(privateKeyPem);
  const signature = sign(null, Buffer.from(sha256Hex, 'ascii'), key);
  return { alg: 'ed25519', key_id: packageKeyId(rawPublicKeyOf(createPublicKey(key))), signature: signature.toString('base64') };
}

/**
 * Whether `signatureB64` is a valid Ed25519 signature of `sha256Hex` by the raw public key
 * `publicKeyB64`. Malformed keys or signatures are simply not valid (false), never a throw.
 */
export function verifyPackageSignature(sha256Hex: string, signatureB64: string, publicKeyB64: string): boolean {
  const raw = Buffer.from(publicKeyB64, 'base64');
  const signature = Buffer.from(signatureB64, 'base64');
  if (raw.length !== ED25519_RAW_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    return verify(null, Buffer.from(sha256Hex, 'ascii'), key, signature);
  } catch {
    return false;
  }
}
