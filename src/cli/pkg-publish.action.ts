/**
 * What `linguamesh pkg pack|publish|keygen` run (their flags: src/cli/pkg.command.ts): building a
 * package from a service directory, placing it into hub storage, and signing keys, all on local
 * files. A failure is printed as one line and sets exit code 1.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { publishPackage } from '../adapters/hub-publish.adapter.js';
import { packServiceDirectory } from '../adapters/package-pack.adapter.js';
import { describeSigningKey } from '../protocol/package-signature.js';
import type { PkgPackFlags, PkgPublishFlags } from './pkg.command.js';
import { runPkgCommand } from './pkg-failure.js';

/** `linguamesh pkg pack <service-dir>`. */
export function packPackage(dir: string, opts: PkgPackFlags): Promise<void> {
  return runPkgCommand(async () => {
    if (!['auto', 'always', 'never'].includes(opts.compression)) throw new Error('--compression must be auto, always or never');
    const result = await packServiceDirectory({
      sourceDir: dir,
      ...(opts.out !== undefined ? { outFile: opts.out } : {}),
      compression: opts.compression as 'auto' | 'always' | 'never',
      ...(opts.sign !== undefined ? { signingKeyPem: await readFile(opts.sign, 'utf8') } : {}),
    });
    process.stdout.write(`${result.sha256}  ${result.file}\n`);
  });
}

/** `linguamesh pkg publish <zip>`. */
export function publishZip(zip: string, opts: PkgPublishFlags): Promise<void> {
  return runPkgCommand(async () => {
    const result = await publishPackage({
      storageDir: opts.storage,
      zipPath: zip,
      ...(opts.stable !== undefined ? { stable: opts.stable } : {}),
      ...(opts.sign !== undefined ? { signingKeyPem: await readFile(opts.sign, 'utf8') } : {}),
      ...(opts.force ? { force: true } : {}),
    });
    process.stdout.write(`published ${result.serviceId}@${result.version} ${result.sha256}${result.signed ? ' signed' : ''}${result.stable ? '' : ' (not stable)'}\n`);
  });
}

/** `linguamesh pkg keygen`. */
export function generateSigningKey(opts: { out: string }): Promise<void> {
  return runPkgCommand(async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(opts.out, pem, { mode: 0o600, flag: 'wx' });
    const { keyId, publicKey } = describeSigningKey(pem);
    process.stdout.write(`key_id ${keyId}\npublic_key ${publicKey}\n`);
  });
}
