import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPackageChecksums, checkPackageManifest, parsePackageChecksums } from '../../../src/actors/node/package-install.actor.js';
import { describeSigningKey, packageKeyId, signPackageDigest, verifyPackageSignature } from '../../../src/protocol/package-signature.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const manifest = (doc: Record<string, unknown>) => Buffer.from(JSON.stringify({ id: 'tiny', name: 'Tiny', version: '1.2.0', type: 'nmt', exec: { command: 'node', args: ['s.js'] }, ...doc }));
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

describe('package checks', () => {
  it('service.json must parse and name the id and version it is installed as (§10.8)', () => {
    const plan = { serviceId: 'tiny', version: '1.2.0' };
    expect(() => checkPackageManifest(manifest({}), plan)).not.toThrow();
    for (const bad of [undefined, Buffer.from('{nope'), manifest({ id: 'other' }), manifest({ version: '1.3.0' }), manifest({ version: undefined }), manifest({ exec: undefined }), manifest({ type: 3 })]) {
      expect(() => checkPackageManifest(bad, plan)).toThrow(expect.objectContaining({ code: 'INVALID_SERVICE_JSON' }));
    }
  });

  it('the in-package checksum.sha256 is checked against the bytes written', () => {
    const files = [{ path: 'a.js', sizeBytes: 1, sha256: sha('a') }, { path: 'models/m.bin', sizeBytes: 1, sha256: sha('m') }];
    const listed = (doc: unknown) => parsePackageChecksums(Buffer.from(JSON.stringify(doc)));
    expect([...listed({ 'a.js': sha('a'), './models/m.bin': sha('m'), 'checksum.sha256': sha('c') }).keys()]).toEqual(['a.js', 'models/m.bin']);
    expect(() => checkPackageChecksums(listed({ 'a.js': sha('a'), './models/m.bin': sha('m') }), files)).not.toThrow();
    expect(() => checkPackageChecksums(listed({ 'a.js': sha('x') }), files)).toThrow(expect.objectContaining({ code: 'CHECKSUM_MISMATCH', details: expect.objectContaining({ path: 'a.js' }) }));
    expect(() => checkPackageChecksums(listed({ 'gone.js': sha('a') }), files)).toThrow(expect.objectContaining({ code: 'CHECKSUM_MISMATCH', details: { path: 'gone.js', reason: 'missing' } }));
    expect(() => parsePackageChecksums(Buffer.from('[1]'))).toThrow(expect.objectContaining({ code: 'CHECKSUM_MISMATCH' }));
    expect(() => parsePackageChecksums(Buffer.from('{oops'))).toThrow(expect.objectContaining({ code: 'CHECKSUM_MISMATCH' }));
  });
});

describe('package signatures (§10.6)', () => {
  it('signs the ASCII hex sha256; verifies with the raw public key; key id derives from the key', () => {
    const key = pem();
    const digest = sha('zip bytes');
    const signed = signPackageDigest(digest, key);
    const { keyId, publicKey } = describeSigningKey(key);
    expect(signed.key_id).toBe(keyId);
    expect(packageKeyId(Buffer.from(publicKey, 'base64'))).toBe(keyId);
    expect(Buffer.from(signed.signature, 'base64')).toHaveLength(64);
    expect(verifyPackageSignature(digest, signed.signature, publicKey)).toBe(true);
    expect(verifyPackageSignature(sha('other'), signed.signature, publicKey)).toBe(false);
    expect(verifyPackageSignature(digest, signed.signature, describeSigningKey(pem()).publicKey)).toBe(false);
    expect(verifyPackageSignature(digest, 'AAAA', publicKey)).toBe(false);
    expect(verifyPackageSignature(digest, signed.signature, 'AAAA')).toBe(false);
  });
});
