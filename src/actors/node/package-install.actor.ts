/**
 * The steps of the install machine, implemented over the node's ports (PROTOCOL.md §10.9). Order
 * of trust: nothing from a download is unpacked before its size and sha256 match the hub's
 * `/checksum` (and its signature verifies when hub keys are configured); nothing unpacked is moved
 * under `services/` before its `service.json` names this id and version and the in-package
 * `checksum.sha256` matches what was written.
 */
import { fromPromise } from 'xstate';
import type { Clock } from '../../kernel/clock.js';
import { KernelError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import type { DiskSpacePort } from '../../kernel/ports/disk-space.port.js';
import type { HubClientPort } from '../../kernel/ports/hub-client.port.js';
import type { ArchiveLimits, ExtractedFile, PackageArchivePort } from '../../kernel/ports/package-archive.port.js';
import type { PackageStorePort } from '../../kernel/ports/package-store.port.js';
import type { ServiceActivationPort } from '../../kernel/ports/service-activation.port.js';
import { packageInstallMachine } from '../../machines/package-install.machine.js';
import type { InstallDownload, InstallPlan } from '../../machines/package-install.machine.js';
import { ChecksumFileSchema, isSemVer } from '../../protocol/hub-api.schema.js';
import type { PackagePhase } from '../../protocol/package-control.schema.js';
import { verifyPackageSignature } from '../../protocol/package-signature.js';
import { parseServiceJson } from '../../protocol/service-json.schema.js';

export interface PackagePorts {
  hub: HubClientPort;
  store: PackageStorePort;
  archive: PackageArchivePort;
  disk: DiskSpacePort;
  activation: ServiceActivationPort;
}

export interface InstallStepOptions extends ArchiveLimits {
  /** Hub public keys by `key_id` (raw 32-byte Ed25519 keys, base64). Empty: signatures are not checked. */
  hubKeys: Record<string, string>;
  /** Free space required before a download, as a multiple of the package size (§10.9 step 8). */
  diskHeadroomFactor: number;
  /** Largest `service.json` read from a package, in bytes. */
  maxServiceJsonBytes: number;
  /** Largest in-package `checksum.sha256`, in bytes. */
  maxChecksumFileBytes: number;
}

/** Where a step reports its progress: the operation record and the bus. */
export type ProgressReporter = (phase: PackagePhase, bytesDone: number, bytesTotal: number) => void;

export interface InstallStepDeps {
  ports: PackagePorts;
  options: InstallStepOptions;
  report: ProgressReporter;
  log: Logger;
  clock: Clock;
}

function invalidServiceJson(message: string, details?: Record<string, unknown>): KernelError {
  return new KernelError('INVALID_SERVICE_JSON', message, details ? { details } : {});
}

/** The package's `service.json` must parse and name the id and version it is installed as (§10.8). */
export function checkPackageManifest(raw: Buffer | undefined, plan: Pick<InstallPlan, 'serviceId' | 'version'>): void {
  if (raw === undefined) throw invalidServiceJson('the package has no service.json at its root');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new KernelError('INVALID_SERVICE_JSON', 'service.json is not valid JSON', { cause: err });
  }
  const parsed = parseServiceJson(json);
  if (!parsed.ok) throw new KernelError('INVALID_SERVICE_JSON', `service.json is invalid: ${parsed.error.reason}`, { cause: parsed.error, details: { issues: parsed.error.issues } });
  const manifest = parsed.value;
  if (manifest.id !== plan.serviceId) throw invalidServiceJson(`service.json id "${manifest.id}" is not "${plan.serviceId}"`, { id: manifest.id });
  if (manifest.version === undefined || !isSemVer(manifest.version)) throw invalidServiceJson('service.json has no SemVer version', { version: manifest.version });
  if (manifest.version !== plan.version) throw invalidServiceJson(`service.json version "${manifest.version}" is not "${plan.version}"`, { version: manifest.version });
}

/** The in-package `checksum.sha256` (§10.8): `{path: sha256}`, paths normalized (no leading `./`). */
export function parsePackageChecksums(raw: Buffer): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new KernelError('CHECKSUM_MISMATCH', 'checksum.sha256 is not valid JSON', { cause: err });
  }
  const parsed = ChecksumFileSchema.safeParse(json);
  if (!parsed.success) throw new KernelError('CHECKSUM_MISMATCH', 'checksum.sha256 is not a {path: sha256} object', { details: { file: 'checksum.sha256' } });
  const out = new Map<string, string>();
  for (const [listed, sha256] of Object.entries(parsed.data)) {
    const path = listed.replace(/^\.\//, '');
    if (path !== 'checksum.sha256') out.set(path, sha256);
  }
  return out;
}

/** Every file the checksum lists was written, with that hash. */
export function checkPackageChecksums(expected: ReadonlyMap<string, string>, files: readonly ExtractedFile[]): void {
  const written = new Map(files.map((f) => [f.path, f.sha256]));
  for (const [path, sha256] of expected) {
    if (!written.has(path)) throw new KernelError('CHECKSUM_MISMATCH', `checksum.sha256 lists "${path}", which the package does not contain`, { details: { path, reason: 'missing' } });
    const actual = written.get(path);
    if (actual !== sha256) throw new KernelError('CHECKSUM_MISMATCH', `"${path}" does not match checksum.sha256`, { details: { path, expected: sha256, actual } });
  }
}

/** The install machine with its steps provided. */
export function installLogic(deps: InstallStepDeps) {
  const { ports, options, report, log } = deps;
  const { hub, store, archive, disk, activation } = ports;
  const limits: ArchiveLimits = { maxUnpackedBytes: options.maxUnpackedBytes, maxCompressionRatio: options.maxCompressionRatio, ratioCheckMinBytes: options.ratioCheckMinBytes };

  return packageInstallMachine.provide({
    actors: {
      resolve: fromPromise(async ({ input, signal }): Promise<InstallPlan> => {
        const previous = await store.currentVersion(input.serviceId, signal);
        const base = { serviceId: input.serviceId, ...(previous !== undefined ? { previous } : {}) };
        if (input.mode === 'use') {
          const version = input.version;
          if (version === undefined || !isSemVer(version)) throw new KernelError('INVALID_VERSION', 'use needs a SemVer version');
          if (!(await store.hasVersion(input.serviceId, version, signal))) throw new KernelError('VERSION_NOT_INSTALLED', `${input.serviceId}@${version} is not installed`);
          return { ...base, version, sizeBytes: 0, sha256: '', installed: true };
        }
        const detail = await hub.getService(input.serviceId, signal);
        const version = input.version === undefined || input.version === 'latest' ? detail.latest_version : input.version;
        const entry = detail.versions.find((v) => v.version === version);
        if (!entry) throw new KernelError('VERSION_NOT_FOUND', `${input.serviceId}@${version} is not on the hub`);
        const installed = await store.hasVersion(input.serviceId, version, signal);
        return { ...base, version, sizeBytes: entry.size_bytes, sha256: entry.sha256, installed };
      }),

      checkDisk: fromPromise(async ({ input: { plan }, signal }) => {
        const freeBytes = await disk.freeBytes(store.servicesDir, signal);
        const requiredBytes = Math.ceil(plan.sizeBytes * options.diskHeadroomFactor);
        if (freeBytes < requiredBytes) {
          throw new KernelError('INSUFFICIENT_DISK', `${plan.serviceId}@${plan.version} needs ${requiredBytes} bytes free, ${freeBytes} are`, { details: { requiredBytes, freeBytes } });
        }
      }),

      download: fromPromise(async ({ input: { plan, attempt }, signal }): Promise<InstallDownload> => {
        const file = store.downloadPath(plan.serviceId, plan.version, plan.sha256);
        const result = await hub.download({ serviceId: plan.serviceId, version: plan.version, file, sha256: plan.sha256, onProgress: (n) => report('download', n, plan.sizeBytes) }, signal);
        log.info({ serviceId: plan.serviceId, version: plan.version, attempt, status: result.status, resumedFromBytes: result.resumedFromBytes, fetchedBytes: result.fetchedBytes }, 'package downloaded');
        return { file, sizeBytes: result.sizeBytes, sha256: result.sha256 };
      }),

      verify: fromPromise(async ({ input: { plan, download }, signal }) => {
        const checksum = await hub.getChecksum(plan.serviceId, plan.version, signal);
        if (checksum.size_bytes !== download.sizeBytes || checksum.sha256 !== download.sha256) {
          throw new KernelError('CHECKSUM_MISMATCH', `${plan.serviceId}@${plan.version} does not match the hub's checksum`, {
            details: { expectedSha256: checksum.sha256, actualSha256: download.sha256, expectedBytes: checksum.size_bytes, actualBytes: download.sizeBytes },
          });
        }
        if (Object.keys(options.hubKeys).length > 0) {
          // §10.6: with a configured key, a missing, unknown-key, mismatched or invalid signature aborts.
          const signature = await hub.getSignature(plan.serviceId, plan.version, signal);
          if (!signature) throw new KernelError('SIGNATURE_MISSING', `the hub holds no signature for ${plan.serviceId}@${plan.version}`);
          const key = options.hubKeys[signature.key_id];
          if (key === undefined) throw new KernelError('SIGNATURE_INVALID', `signed by unknown key ${signature.key_id}`, { details: { keyId: signature.key_id, reason: 'unknown_key' } });
          if (signature.sha256 !== download.sha256) throw new KernelError('SIGNATURE_INVALID', 'the signature is for another file', { details: { keyId: signature.key_id, reason: 'sha256_mismatch' } });
          if (!verifyPackageSignature(download.sha256, signature.signature, key)) throw new KernelError('SIGNATURE_INVALID', 'the signature does not verify', { details: { keyId: signature.key_id, reason: 'bad_signature' } });
        }
        report('verify', download.sizeBytes, download.sizeBytes);
      }),

      unpack: fromPromise(async ({ input: { plan, download }, signal }): Promise<string> => {
        const inspection = await archive.inspect(download.file, limits, signal);
        if (!inspection.files.includes('service.json')) throw invalidServiceJson('the package has no service.json at its root');
        const freeBytes = await disk.freeBytes(store.servicesDir, signal);
        if (freeBytes < inspection.declaredBytes) {
          throw new KernelError('INSUFFICIENT_DISK', `unpacking needs ${inspection.declaredBytes} bytes free, ${freeBytes} are`, { details: { requiredBytes: inspection.declaredBytes, freeBytes } });
        }
        // The checksum file is read first, so each listed file is hashed while it is written.
        const checksumRaw = inspection.files.includes('checksum.sha256') ? await archive.readEntry(download.file, 'checksum.sha256', options.maxChecksumFileBytes, signal) : undefined;
        const expected = checksumRaw === undefined ? new Map<string, string>() : parsePackageChecksums(checksumRaw);
        const stagingDir = await store.createStaging(plan.serviceId, plan.version, signal);
        try {
          const files = await archive.extract(download.file, stagingDir, limits, { sha256Of: new Set(expected.keys()) }, (n) => report('unpack', n, inspection.declaredBytes), signal);
          checkPackageManifest(await store.readStagedFile(stagingDir, 'service.json', options.maxServiceJsonBytes, signal), plan);
          checkPackageChecksums(expected, files);
          return stagingDir;
        } catch (err) {
          await store.discardStaging(stagingDir, new AbortController().signal).catch((cleanupErr: unknown) => log.warn({ err: cleanupErr, stagingDir }, 'staging directory not removed'));
          throw err;
        }
      }),

      commit: fromPromise(async ({ input: { plan, stagingDir }, signal }) => {
        await store.commit(stagingDir, plan.serviceId, plan.version, signal);
        await store.discardDownloads(plan.serviceId, plan.version, signal);
      }),

      switchCurrent: fromPromise(async ({ input: { plan }, signal }) => {
        await store.writeJournal(plan.serviceId, { ...(plan.previous !== undefined ? { previous: plan.previous } : {}), next: plan.version }, signal);
        await store.switchCurrent(plan.serviceId, plan.version, signal);
        report('switch', 1, 1);
      }),

      activate: fromPromise(async ({ input: { plan }, signal }) => {
        await activation.activate(plan.serviceId, plan.version, signal);
        report('start', 1, 1);
      }),

      confirm: fromPromise(async ({ input: { plan }, signal }) => {
        await store.writeJournal(plan.serviceId, undefined, signal);
      }),

      rollback: fromPromise(async ({ input: { plan, removeVersion }, signal }) => {
        // The order keeps every crash point recoverable: `current` goes back first (the journal
        // still says so too), the failed version goes next, the journal last.
        await store.switchCurrent(plan.serviceId, plan.previous, signal);
        let restartError: unknown;
        try {
          if (plan.previous !== undefined) await activation.activate(plan.serviceId, plan.previous, signal);
          else await activation.deactivate(plan.serviceId, signal);
        } catch (err) {
          restartError = err;
        }
        if (removeVersion) await store.removeVersion(plan.serviceId, plan.version, signal);
        await store.writeJournal(plan.serviceId, undefined, signal);
        report('rollback', 1, 1);
        if (restartError !== undefined) throw restartError;
      }),

      discard: fromPromise(async ({ input, signal }) => {
        if (input.stagingDir !== undefined) await store.discardStaging(input.stagingDir, signal);
        // A complete download that failed a check is untrusted; an incomplete one stays to be resumed.
        if (input.discardDownload && input.plan) await store.discardDownloads(input.plan.serviceId, input.plan.version, signal);
      }),
    },
  });
}
