/**
 * What `linguamesh pkg …` runs (its flags: src/cli/pkg.command.ts): packing, publishing and signing
 * keys on local files, and the package operations of a running node through its control endpoint.
 * A failure is printed as one line and sets exit code 1.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import { createPackageControlClient } from '../adapters/package-control-client.adapter.js';
import { publishPackage } from '../adapters/hub-publish.adapter.js';
import { packServiceDirectory } from '../adapters/package-pack.adapter.js';
import { isKernelError } from '../kernel/errors.js';
import type { PackageOperation, PackageOperationKind } from '../protocol/package-control.schema.js';
import { describeSigningKey } from '../protocol/package-signature.js';
import { parsePackageRef } from './pkg.command.js';
import type { PkgNodeFlags, PkgPackFlags, PkgPublishFlags } from './pkg.command.js';

const POLL_INTERVAL_MS = 200;

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const code = isKernelError(err) ? err.code : 'ERROR';
    process.stderr.write(`error ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

/** Polls an operation to its end, with a progress bar on a TTY and phase lines otherwise. */
async function follow(nodeUrl: string, started: PackageOperation): Promise<PackageOperation> {
  const client = createPackageControlClient(nodeUrl);
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new SingleBar({ format: ' {phase} [{bar}] {percentage}% {value}/{total} bytes', hideCursor: true, stream: process.stderr }) : undefined;
  let phase: string | undefined;
  let op = started;
  let barStarted = false;
  while (op.state === 'running') {
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    op = await client.operation(op.operation_id);
    if (op.phase !== phase) {
      phase = op.phase;
      if (!tty && phase !== undefined) process.stderr.write(`${op.service_id}${op.version ? `@${op.version}` : ''}: ${phase}\n`);
    }
    if (bar && op.bytes_total > 0) {
      if (!barStarted) {
        bar.start(op.bytes_total, op.bytes_done, { phase: op.phase ?? '' });
        barStarted = true;
      }
      bar.setTotal(op.bytes_total);
      bar.update(op.bytes_done, { phase: op.phase ?? '' });
    }
  }
  if (barStarted) bar?.stop();
  return op;
}

async function operate(nodeUrl: string, kind: PackageOperationKind, ref: string): Promise<void> {
  const { serviceId, version } = parsePackageRef(ref);
  const op = await follow(nodeUrl, await createPackageControlClient(nodeUrl).begin(kind, serviceId, version));
  if (op.state === 'failed') {
    process.stderr.write(`error ${op.error?.code ?? 'ERROR'}: ${op.error?.message ?? 'failed'}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${op.outcome ?? 'done'} ${op.service_id}${op.version ? `@${op.version}` : ''}\n`);
}

/** `linguamesh pkg pack <service-dir>`. */
export function packPackage(dir: string, opts: PkgPackFlags): Promise<void> {
  return run(async () => {
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
  return run(async () => {
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
  return run(async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await writeFile(opts.out, pem, { mode: 0o600, flag: 'wx' });
    const { keyId, publicKey } = describeSigningKey(pem);
    process.stdout.write(`key_id ${keyId}\npublic_key ${publicKey}\n`);
  });
}

/** `linguamesh pkg list`. */
export function listPackages(opts: PkgNodeFlags): Promise<void> {
  return run(async () => {
    const packages = await createPackageControlClient(opts.node).list();
    if (opts.json) process.stdout.write(`${JSON.stringify(packages)}\n`);
    else for (const p of packages) process.stdout.write(`${p.service_id}\t${p.active_version ?? '-'}\t${p.versions.join(', ')}\n`);
  });
}

/** `linguamesh pkg available`. */
export function listAvailable(opts: PkgNodeFlags): Promise<void> {
  return run(async () => {
    const services = await createPackageControlClient(opts.node).available();
    if (opts.json) process.stdout.write(`${JSON.stringify(services)}\n`);
    else for (const s of services) process.stdout.write(`${s.service_id}\tlatest ${s.latest_version}\tactive ${s.active_version ?? '-'}\t${s.versions.join(', ')}\n`);
  });
}

/** `linguamesh pkg install|uninstall|use <ref>`. */
export function operatePackage(nodeUrl: string, kind: PackageOperationKind, ref: string): Promise<void> {
  return run(() => operate(nodeUrl, kind, ref));
}
