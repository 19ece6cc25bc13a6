/**
 * `linguamesh pkg …`: build and publish packages (pack, publish, keygen; local files), and manage
 * a running node's packages through its control endpoint (list, available, install, uninstall, use).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { createPackageControlClient } from '../adapters/package-control-client.adapter.js';
import { publishPackage } from '../adapters/hub-publish.adapter.js';
import { packServiceDirectory } from '../adapters/package-pack.adapter.js';
import { isKernelError } from '../kernel/errors.js';
import type { PackageOperation, PackageOperationKind } from '../protocol/package-control.schema.js';
import { describeSigningKey } from '../protocol/package-signature.js';

/** Where `pkg` finds the node's control endpoint unless `--node` says otherwise. */
export const DEFAULT_NODE_CONTROL_URL = process.env.LINGUAMESH_NODE_URL ?? 'http://127.0.0.1:5020';
const POLL_INTERVAL_MS = 200;

/** `<id>[@<version>]`. */
export function parsePackageRef(ref: string): { serviceId: string; version?: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return { serviceId: ref };
  return { serviceId: ref.slice(0, at), version: ref.slice(at + 1) };
}

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

export function registerPkgCommand(program: Command): void {
  const pkg = program.command('pkg').description('service packages: pack, publish, and install on a node');

  pkg
    .command('pack <service-dir>')
    .description('build a package zip from a service directory and print its sha256')
    .option('--out <file>', 'output zip (default <id>-<version>.zip)')
    .option('--sign <key.pem>', 'Ed25519 private key: also write <out>.sig')
    .option('--compression <mode>', 'auto | always | never', 'auto')
    .action((dir: string, opts: { out?: string; sign?: string; compression: string }) =>
      run(async () => {
        if (!['auto', 'always', 'never'].includes(opts.compression)) throw new Error('--compression must be auto, always or never');
        const result = await packServiceDirectory({
          sourceDir: dir,
          ...(opts.out !== undefined ? { outFile: opts.out } : {}),
          compression: opts.compression as 'auto' | 'always' | 'never',
          ...(opts.sign !== undefined ? { signingKeyPem: await readFile(opts.sign, 'utf8') } : {}),
        });
        process.stdout.write(`${result.sha256}  ${result.file}\n`);
      }),
    );

  pkg
    .command('publish <zip>')
    .description('place a package into hub storage (a running hub lists it at once)')
    .requiredOption('--storage <dir>', 'hub storage directory')
    .option('--stable', 'list it as stable')
    .option('--no-stable', 'list it as not stable')
    .option('--sign <key.pem>', 'Ed25519 private key to sign it with (else <zip>.sig is used when present)')
    .option('--force', 'replace a version already published')
    .action((zip: string, opts: { storage: string; stable?: boolean; sign?: string; force?: boolean }) =>
      run(async () => {
        const result = await publishPackage({
          storageDir: opts.storage,
          zipPath: zip,
          ...(opts.stable !== undefined ? { stable: opts.stable } : {}),
          ...(opts.sign !== undefined ? { signingKeyPem: await readFile(opts.sign, 'utf8') } : {}),
          ...(opts.force ? { force: true } : {}),
        });
        process.stdout.write(`published ${result.serviceId}@${result.version} ${result.sha256}${result.signed ? ' signed' : ''}${result.stable ? '' : ' (not stable)'}\n`);
      }),
    );

  pkg
    .command('keygen')
    .description('create an Ed25519 signing key (PEM) and print its key id and public key for nodes')
    .requiredOption('--out <key.pem>', 'where to write the private key')
    .action((opts: { out: string }) =>
      run(async () => {
        const { privateKey } = generateKeyPairSync('ed25519');
        const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
        await writeFile(opts.out, pem, { mode: 0o600, flag: 'wx' });
        const { keyId, publicKey } = describeSigningKey(pem);
        process.stdout.write(`key_id ${keyId}\npublic_key ${publicKey}\n`);
      }),
    );

  const nodeOption = (cmd: Command) => cmd.option('--node <url>', 'the node control endpoint', DEFAULT_NODE_CONTROL_URL).option('--json', 'print JSON');

  nodeOption(pkg.command('list').description('installed services and their active versions')).action((opts: { node: string; json?: boolean }) =>
    run(async () => {
      const packages = await createPackageControlClient(opts.node).list();
      if (opts.json) process.stdout.write(`${JSON.stringify(packages)}\n`);
      else for (const p of packages) process.stdout.write(`${p.service_id}\t${p.active_version ?? '-'}\t${p.versions.join(', ')}\n`);
    }),
  );

  nodeOption(pkg.command('available').description("the hub's services, marked with what the node has")).action((opts: { node: string; json?: boolean }) =>
    run(async () => {
      const services = await createPackageControlClient(opts.node).available();
      if (opts.json) process.stdout.write(`${JSON.stringify(services)}\n`);
      else for (const s of services) process.stdout.write(`${s.service_id}\tlatest ${s.latest_version}\tactive ${s.active_version ?? '-'}\t${s.versions.join(', ')}\n`);
    }),
  );

  nodeOption(pkg.command('install <ref>').description('install <id>[@version] (default: latest) and make it active')).action((ref: string, opts: { node: string }) => run(() => operate(opts.node, 'install', ref)));
  nodeOption(pkg.command('uninstall <ref>').description('remove <id>@<version>, or every version of <id>')).action((ref: string, opts: { node: string }) => run(() => operate(opts.node, 'uninstall', ref)));
  nodeOption(pkg.command('use <ref>').description('make an installed <id>@<version> active')).action((ref: string, opts: { node: string }) => run(() => operate(opts.node, 'use', ref)));
}
