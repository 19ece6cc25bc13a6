/**
 * What `linguamesh pkg list|available|install|uninstall|use` run (their flags: src/cli/pkg.command.ts):
 * the package operations of a running node, through its control endpoint. A failure is printed as
 * one line and sets exit code 1. Packing and publishing: src/cli/pkg-publish.action.ts.
 */
import { SingleBar } from 'cli-progress';
import { createPackageControlClient } from '../adapters/package-control-client.adapter.js';
import type { PackageOperation, PackageOperationKind } from '../protocol/package-control.schema.js';
import { parsePackageRef } from './pkg.command.js';
import type { PkgNodeFlags } from './pkg.command.js';
import { runPkgCommand } from './pkg-failure.js';

const POLL_INTERVAL_MS = 200;

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

/** `linguamesh pkg list`. */
export function listPackages(opts: PkgNodeFlags): Promise<void> {
  return runPkgCommand(async () => {
    const packages = await createPackageControlClient(opts.node).list();
    if (opts.json) process.stdout.write(`${JSON.stringify(packages)}\n`);
    else for (const p of packages) process.stdout.write(`${p.service_id}\t${p.active_version ?? '-'}\t${p.versions.join(', ')}\n`);
  });
}

/** `linguamesh pkg available`. */
export function listAvailable(opts: PkgNodeFlags): Promise<void> {
  return runPkgCommand(async () => {
    const services = await createPackageControlClient(opts.node).available();
    if (opts.json) process.stdout.write(`${JSON.stringify(services)}\n`);
    else for (const s of services) process.stdout.write(`${s.service_id}\tlatest ${s.latest_version}\tactive ${s.active_version ?? '-'}\t${s.versions.join(', ')}\n`);
  });
}

/** `linguamesh pkg install|uninstall|use <ref>`. */
export function operatePackage(nodeUrl: string, kind: PackageOperationKind, ref: string): Promise<void> {
  return runPkgCommand(() => operate(nodeUrl, kind, ref));
}
