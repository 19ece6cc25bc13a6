/**
 * `linguamesh pkg …`: build and publish packages (pack, publish, keygen; local files), and manage
 * a running node's packages through its control endpoint (list, available, install, uninstall, use).
 * What each command runs is in src/cli/pkg-publish.action.ts (local files) and src/cli/pkg.action.ts
 * (a node's packages), loaded when it runs.
 */
import type { Command } from 'commander';

/** Where `pkg` finds the node's control endpoint unless `--node` says otherwise. */
export const DEFAULT_NODE_CONTROL_URL = process.env.LINGUAMESH_NODE_URL ?? 'http://127.0.0.1:5020';

export interface PkgPackFlags {
  out?: string;
  sign?: string;
  compression: string;
}

export interface PkgPublishFlags {
  storage: string;
  stable?: boolean;
  sign?: string;
  force?: boolean;
}

export interface PkgNodeFlags {
  node: string;
  json?: boolean;
}

/** `<id>[@<version>]`. */
export function parsePackageRef(ref: string): { serviceId: string; version?: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0) return { serviceId: ref };
  return { serviceId: ref.slice(0, at), version: ref.slice(at + 1) };
}

const publishing = () => import('./pkg-publish.action.js');
const action = () => import('./pkg.action.js');

export function registerPkgCommand(program: Command): void {
  const pkg = program.command('pkg').description('service packages: pack, publish, and install on a node');

  pkg
    .command('pack <service-dir>')
    .description('build a package zip from a service directory and print its sha256')
    .option('--out <file>', 'output zip (default <id>-<version>.zip)')
    .option('--sign <key.pem>', 'Ed25519 private key: also write <out>.sig')
    .option('--compression <mode>', 'auto | always | never', 'auto')
    .action(async (dir: string, opts: PkgPackFlags) => (await publishing()).packPackage(dir, opts));

  pkg
    .command('publish <zip>')
    .description('place a package into hub storage (a running hub lists it at once)')
    .requiredOption('--storage <dir>', 'hub storage directory')
    .option('--stable', 'list it as stable')
    .option('--no-stable', 'list it as not stable')
    .option('--sign <key.pem>', 'Ed25519 private key to sign it with (else <zip>.sig is used when present)')
    .option('--force', 'replace a version already published')
    .action(async (zip: string, opts: PkgPublishFlags) => (await publishing()).publishZip(zip, opts));

  pkg
    .command('keygen')
    .description('create an Ed25519 signing key (PEM) and print its key id and public key for nodes')
    .requiredOption('--out <key.pem>', 'where to write the private key')
    .action(async (opts: { out: string }) => (await publishing()).generateSigningKey(opts));

  const nodeOption = (cmd: Command) => cmd.option('--node <url>', 'the node control endpoint', DEFAULT_NODE_CONTROL_URL).option('--json', 'print JSON');

  nodeOption(pkg.command('list').description('installed services and their active versions')).action(async (opts: PkgNodeFlags) => (await action()).listPackages(opts));
  nodeOption(pkg.command('available').description("the hub's services, marked with what the node has")).action(async (opts: PkgNodeFlags) => (await action()).listAvailable(opts));
  nodeOption(pkg.command('install <ref>').description('install <id>[@version] (default: latest) and make it active')).action(async (ref: string, opts: PkgNodeFlags) => (await action()).operatePackage(opts.node, 'install', ref));
  nodeOption(pkg.command('uninstall <ref>').description('remove <id>@<version>, or every version of <id>')).action(async (ref: string, opts: PkgNodeFlags) => (await action()).operatePackage(opts.node, 'uninstall', ref));
  nodeOption(pkg.command('use <ref>').description('make an installed <id>@<version> active')).action(async (ref: string, opts: PkgNodeFlags) => (await action()).operatePackage(opts.node, 'use', ref));
}
