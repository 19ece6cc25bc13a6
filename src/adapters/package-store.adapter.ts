/**
 * The node's package files on disk (PROTOCOL.md §10.9 step 6):
 *
 *   <servicesDir>/<id>/<version>/          installed versions (complete: they appear by rename)
 *   <servicesDir>/<id>/current → <version> the active version: a relative symbolic link replaced
 *                                          by rename, or `current.json` {"version"} where links fail
 *   <workDir>/downloads/<id>@<version>-<sha16>.zip.partial   resumable downloads
 *   <workDir>/staging/<id>@<version>-<random>/               unpacking in progress
 *   <workDir>/journal/<id>.json                               a switch in progress
 *   <workDir>/trash/…                                         versions being removed
 *
 * `workDir` defaults to `<servicesDir>/.packages`: on the same file system, so commits are renames,
 * and its name is no valid service id, so the services supervisor never mistakes it for a service.
 * Every change is a rename of something complete, so a crash leaves the state before or after it.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { KernelError } from '../kernel/errors.js';
import type { InstalledService, PackageRecovery, PackageStorePort, SwitchJournal } from '../kernel/ports/package-store.port.js';
import { isSemVer } from '../protocol/hub-api.schema.js';
import { SERVICE_ID_PATTERN } from '../protocol/ids.js';
import { CurrentVersionFileSchema } from '../protocol/package-control.schema.js';
import { temporarySibling, writeFileAtomically } from './atomic-file.adapter.js';

export interface PackageStoreOptions {
  servicesDir: string;
  /** Downloads, staging, journal and trash; must be on the file system of `servicesDir`. Default `<servicesDir>/.packages`. */
  workDir?: string;
  /** `auto`: `current` is a symbolic link, `current.json` only where links fail; `never`: always `current.json`. */
  symlinks?: 'auto' | 'never';
}

const CURRENT_LINK = 'current';
const CURRENT_FILE = 'current.json';
const JournalSchema = z.object({ previous: z.string().optional(), next: z.string() });

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ioError(action: string, err: unknown): KernelError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new KernelError('INSUFFICIENT_DISK', `${action}: the disk is full`, { cause: err });
  return new KernelError('PACKAGE_STORE_FAILED', `${action}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

async function guarded<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof KernelError) throw err;
    throw ioError(action, err);
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export function createPackageStore(options: PackageStoreOptions): PackageStorePort {
  const servicesDir = resolve(options.servicesDir);
  const workDir = resolve(options.workDir ?? join(servicesDir, '.packages'));
  const dirs = { downloads: join(workDir, 'downloads'), staging: join(workDir, 'staging'), journal: join(workDir, 'journal'), trash: join(workDir, 'trash') };
  const symlinks = options.symlinks ?? 'auto';
  const serviceDir = (id: string) => join(servicesDir, id);

  async function readCurrent(id: string): Promise<string | undefined> {
    let version: string | undefined;
    try {
      version = basename(await readlink(join(serviceDir(id), CURRENT_LINK)));
    } catch (err) {
      if (!isMissing(err) && (err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      try {
        const parsed = CurrentVersionFileSchema.safeParse(JSON.parse(await readFile(join(serviceDir(id), CURRENT_FILE), 'utf8')));
        version = parsed.success ? parsed.data.version : undefined;
      } catch (inner) {
        if (!isMissing(inner) && !(inner instanceof SyntaxError)) throw inner;
      }
    }
    if (version === undefined || !isSemVer(version)) return undefined;
    return (await isDirectory(join(serviceDir(id), version))) ? version : undefined;
  }

  async function isDirectory(path: string): Promise<boolean> {
    try {
      return (await lstat(path)).isDirectory();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async function switchCurrent(id: string, version: string | undefined): Promise<void> {
    const dir = serviceDir(id);
    if (version === undefined) {
      await rm(join(dir, CURRENT_LINK), { force: true });
      await rm(join(dir, CURRENT_FILE), { force: true });
      return;
    }
    if (symlinks === 'auto') {
      const tmp = temporarySibling(join(dir, CURRENT_LINK));
      try {
        await symlink(version, tmp, 'dir');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP' && code !== 'EACCES') throw err;
        await writeCurrentFile(dir, version);
        return;
      }
      // rename(2) replaces the old link itself (it does not follow it): readers see the old
      // target or the new one, never no link.
      await rename(tmp, join(dir, CURRENT_LINK));
      await rm(join(dir, CURRENT_FILE), { force: true });
      return;
    }
    await writeCurrentFile(dir, version);
  }

  async function writeCurrentFile(dir: string, version: string): Promise<void> {
    await writeFileAtomically(join(dir, CURRENT_FILE), `${JSON.stringify({ version })}\n`);
    // A stale link would win over the file for readers; remove it once the file names the version.
    await rm(join(dir, CURRENT_LINK), { force: true });
  }

  async function emptyTrash(): Promise<void> {
    for (const name of await listDir(dirs.trash)) await rm(join(dirs.trash, name), { recursive: true, force: true });
  }

  return {
    servicesDir,

    recover: (signal) =>
      guarded('recovering the package store', async (): Promise<PackageRecovery> => {
        const removedStaging: string[] = [];
        for (const name of await listDir(dirs.staging)) {
          signal.throwIfAborted();
          await rm(join(dirs.staging, name), { recursive: true, force: true });
          removedStaging.push(name);
        }
        await emptyTrash();
        for (const id of await listDir(servicesDir)) {
          if (!SERVICE_ID_PATTERN.test(id)) continue;
          // Temporary links and files of an interrupted `current` switch.
          for (const name of await listDir(serviceDir(id))) {
            if (name.startsWith('.') && name.includes('.tmp-')) await rm(join(serviceDir(id), name), { force: true });
          }
        }
        const reverted: PackageRecovery['reverted'] = [];
        for (const name of await listDir(dirs.journal)) {
          if (!name.endsWith('.json') || name.startsWith('.')) {
            await rm(join(dirs.journal, name), { force: true });
            continue;
          }
          const serviceId = name.slice(0, -'.json'.length);
          const parsed = JournalSchema.safeParse(JSON.parse(await readFile(join(dirs.journal, name), 'utf8').catch(() => 'null')));
          if (parsed.success && SERVICE_ID_PATTERN.test(serviceId)) {
            // The switch never confirmed that the new version runs: the previous one is active again.
            const previous = parsed.data.previous !== undefined && (await isDirectory(join(serviceDir(serviceId), parsed.data.previous))) ? parsed.data.previous : undefined;
            await switchCurrent(serviceId, previous);
            reverted.push({ serviceId, current: previous });
          }
          await rm(join(dirs.journal, name), { force: true });
        }
        const partials: string[] = [];
        for (const name of await listDir(dirs.downloads)) {
          // `<id>@<version>-<sha16>.zip.partial`: kept to be resumed, unless that version is
          // installed already (the node died between moving it into place and removing the zip).
          const match = /^(.+)@(.+)-[0-9a-f]{16}\.zip\.partial$/.exec(name);
          if (match && (await isDirectory(join(serviceDir(match[1] ?? ''), match[2] ?? '')))) await rm(join(dirs.downloads, name), { force: true });
          else if (name.endsWith('.partial')) partials.push(name);
        }
        return { removedStaging, reverted, partials };
      }),

    listInstalled: (signal) =>
      guarded('listing installed services', async (): Promise<InstalledService[]> => {
        const out: InstalledService[] = [];
        for (const id of (await listDir(servicesDir)).sort()) {
          signal.throwIfAborted();
          if (!SERVICE_ID_PATTERN.test(id) || !(await isDirectory(serviceDir(id)))) continue;
          const versions: string[] = [];
          for (const name of await listDir(serviceDir(id))) {
            if (isSemVer(name) && (await isDirectory(join(serviceDir(id), name)))) versions.push(name);
          }
          if (versions.length === 0) continue;
          const current = await readCurrent(id);
          out.push({ serviceId: id, versions, ...(current !== undefined ? { current } : {}) });
        }
        return out;
      }),

    currentVersion: (id) => guarded('reading the current version', () => readCurrent(id)),

    hasVersion: (id, version) => guarded('looking up a version', () => isDirectory(join(serviceDir(id), version))),

    downloadPath: (id, version, sha256) => join(dirs.downloads, `${id}@${version}-${sha256.slice(0, 16)}.zip.partial`),

    discardDownloads: (id, version) =>
      guarded('removing a download', async () => {
        const prefix = `${id}@${version}-`;
        for (const name of await listDir(dirs.downloads)) {
          if (name.startsWith(prefix)) await rm(join(dirs.downloads, name), { force: true });
        }
      }),

    createStaging: (id, version) =>
      guarded('creating a staging directory', async () => {
        await mkdir(dirs.staging, { recursive: true });
        await mkdir(dirs.downloads, { recursive: true });
        return mkdtemp(join(dirs.staging, `${id}@${version}-`));
      }),

    readStagedFile: (stagingDir, relativePath, maxBytes) =>
      guarded('reading a staged file', async () => {
        const path = resolve(stagingDir, relativePath);
        if (relative(stagingDir, path).startsWith('..') || path === stagingDir) throw new KernelError('UNSAFE_ARCHIVE_ENTRY', `"${relativePath}" is outside the staging directory`);
        let stats;
        try {
          stats = await lstat(path);
        } catch (err) {
          if (isMissing(err)) return undefined;
          throw err;
        }
        if (!stats.isFile()) return undefined;
        if (stats.size > maxBytes) throw new KernelError('STAGED_FILE_TOO_LARGE', `"${relativePath}" is larger than ${maxBytes} bytes`, { details: { path: relativePath, maxBytes } });
        return readFile(path);
      }),

    discardStaging: (stagingDir) =>
      guarded('removing a staging directory', async () => {
        if (!resolve(stagingDir).startsWith(dirs.staging + sep)) throw new KernelError('PACKAGE_STORE_FAILED', `${stagingDir} is not a staging directory`);
        await rm(stagingDir, { recursive: true, force: true });
      }),

    commit: (stagingDir, id, version) =>
      guarded('moving the package into place', async () => {
        await mkdir(serviceDir(id), { recursive: true });
        try {
          await rename(stagingDir, join(serviceDir(id), version));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST' || code === 'ENOTEMPTY') throw new KernelError('VERSION_EXISTS', `${id}@${version} is already installed`, { cause: err });
          if (code === 'EXDEV') throw new KernelError('PACKAGE_STORE_FAILED', 'the package work directory must be on the file system of the services directory', { cause: err });
          throw err;
        }
      }),

    switchCurrent: (id, version) => guarded('switching the current version', () => switchCurrent(id, version)),

    writeJournal: (id, journal: SwitchJournal | undefined) =>
      guarded('writing the switch journal', async () => {
        const path = join(dirs.journal, `${id}.json`);
        if (journal === undefined) {
          await rm(path, { force: true });
          return;
        }
        await mkdir(dirs.journal, { recursive: true });
        await writeFileAtomically(path, `${JSON.stringify(journal)}\n`);
      }),

    removeVersion: (id, version) =>
      guarded('removing a version', async () => {
        const dir = join(serviceDir(id), version);
        if (!(await isDirectory(dir))) return;
        // Renamed away first, so no half-deleted version is ever visible under services/.
        await mkdir(dirs.trash, { recursive: true });
        const trashed = join(dirs.trash, `${id}@${version}-${randomBytes(6).toString('hex')}`);
        await rename(dir, trashed);
        await rm(trashed, { recursive: true, force: true });
        const left = (await listDir(serviceDir(id))).filter((n) => n !== CURRENT_LINK && n !== CURRENT_FILE && !n.startsWith('.'));
        if (left.length === 0) await rm(serviceDir(id), { recursive: true, force: true });
      }),
  };
}
