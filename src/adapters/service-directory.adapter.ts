/**
 * Installed services on disk (ServiceDirectoryPort), laid out as PROTOCOL.md §10.9 step 6 says:
 * `services/<id>/<version>/service.json` with a `services/<id>/current` symbolic link to
 * `<version>`, or a `services/<id>/current.json` naming it. A directory with a `service.json` of its
 * own (`services/<id>/service.json`, the flat layout of hand-placed services) is read as is. One bad
 * service never hides the others: its problem becomes its `result.error`.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readFile, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import semver from 'semver';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { DiscoveredManifest, DiscoveredService, ServiceDirectoryPort } from '../kernel/ports/service-directory.port.js';
import type { StateFilePort } from '../kernel/ports/state-file.port.js';
import { CurrentPointerSchema } from '../protocol/node-files.schema.js';
import { parseServiceJson } from '../protocol/service-json.schema.js';
import { parseWith } from '../protocol/validation.js';

const SERVICE_JSON = 'service.json';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads and validates `<dir>/service.json`; `expectedId` is the id the directory layout implies. */
async function readManifest(dir: string, expectedId: string | undefined): Promise<DiscoveredManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, SERVICE_JSON), 'utf8');
  } catch (err) {
    return { ok: false, error: `cannot read ${SERVICE_JSON}: ${message(err)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${SERVICE_JSON} is not JSON: ${message(err)}` };
  }
  const declaredType = typeof (json as { type?: unknown } | null)?.type === 'string' ? (json as { type: string }).type : undefined;
  const parsed = parseServiceJson(json);
  if (!parsed.ok) return { ok: false, error: parsed.error.message, ...(declaredType ? { type: declaredType } : {}) };
  if (expectedId !== undefined && parsed.value.id !== expectedId) {
    return { ok: false, error: `${SERVICE_JSON} id "${parsed.value.id}" does not match its directory services/${expectedId}`, type: parsed.value.type };
  }
  return { ok: true, manifest: parsed.value };
}

/** The active version directory of `services/<id>/`: the `current` link, else `current.json`, else the highest version present. */
async function activeVersion(base: string): Promise<{ dir: string; version?: string } | { error: string }> {
  const link = join(base, 'current');
  const linkStat = await lstat(link).catch(() => undefined);
  if (linkStat?.isSymbolicLink()) {
    const target = await readlink(link);
    return { dir: resolve(base, target), version: isAbsolute(target) ? basename(target) : target.replace(/\/+$/, '') };
  }
  if (linkStat?.isDirectory()) return { dir: link };
  const pointer = await readFile(join(base, 'current.json'), 'utf8').catch(() => undefined);
  if (pointer !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(pointer);
    } catch {
      return { error: 'current.json is not JSON' };
    }
    const parsed = parseWith(CurrentPointerSchema, json, 'current.json');
    if (!parsed.ok) return { error: parsed.error.message };
    return { dir: join(base, parsed.value), version: parsed.value };
  }
  const entries = await readdir(base, { withFileTypes: true }).catch(() => []);
  const versions: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() && !entry.name.startsWith('.') && (await exists(join(base, entry.name, SERVICE_JSON)))) versions.push(entry.name);
  }
  if (versions.length === 0) return { error: 'no current version (no current link, no current.json, no version directory)' };
  const valid = versions.filter((v) => semver.valid(v));
  const chosen = valid.length > 0 ? semver.rsort(valid)[0]! : versions.sort().at(-1)!;
  return { dir: join(base, chosen), version: chosen };
}

async function scanInstalled(root: string): Promise<DiscoveredService[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const ids = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  const found: DiscoveredService[] = [];
  for (const id of ids) {
    const base = join(root, id);
    if (await exists(join(base, SERVICE_JSON))) {
      found.push({ id, dir: base, source: 'installed', result: await readManifest(base, id) });
      continue;
    }
    const active = await activeVersion(base);
    if ('error' in active) {
      found.push({ id, dir: base, source: 'installed', result: { ok: false, error: active.error } });
      continue;
    }
    const result = await readManifest(active.dir, id);
    if (result.ok && active.version !== undefined && result.manifest.version !== undefined && result.manifest.version !== active.version) {
      found.push({ id, dir: active.dir, source: 'installed', version: active.version, result: { ok: false, error: `${SERVICE_JSON} version "${result.manifest.version}" does not match its directory ${active.version}`, type: result.manifest.type } });
      continue;
    }
    found.push({ id, dir: active.dir, source: 'installed', ...(active.version !== undefined ? { version: active.version } : {}), result });
  }
  return found;
}

export interface ServiceDirectoryAdapterOptions {
  /** Writes `current.json` where symbolic links are not available. */
  stateFiles: StateFilePort;
}

export function createServiceDirectoryAdapter(options: ServiceDirectoryAdapterOptions): ServiceDirectoryPort {
  return {
    async scan({ servicesRoot, extraDirs }, signal) {
      if (signal.aborted) throw new AbortedError('scan aborted');
      const found = await scanInstalled(servicesRoot);
      for (const extra of extraDirs) {
        const dir = resolve(extra);
        const result = await readManifest(dir, undefined);
        found.push({ id: result.ok ? result.manifest.id : basename(dir), dir, source: 'extra', result });
      }
      return found;
    },
    async setCurrent(servicesRoot, id, version, signal) {
      if (signal.aborted) throw new AbortedError('switch aborted');
      const base = join(servicesRoot, id);
      if (!(await exists(join(base, version)))) {
        throw new KernelError('SERVICE_VERSION_NOT_FOUND', `services/${id}/${version} does not exist`, { details: { serviceId: id, version } });
      }
      const tmp = join(base, `.current-${randomBytes(4).toString('hex')}`);
      try {
        await symlink(version, tmp);
      } catch {
        // No symbolic links here (some Windows setups): the pointer file, replaced by rename.
        await options.stateFiles.write(join(base, 'current.json'), { version }, { mode: 'durable' }, signal);
        return;
      }
      try {
        await rename(tmp, join(base, 'current'));
      } catch (err) {
        await rm(tmp, { force: true });
        throw new KernelError('SERVICE_SWITCH_FAILED', `cannot switch services/${id} to ${version}: ${message(err)}`, { cause: err, details: { serviceId: id, version } });
      }
      await rm(join(base, 'current.json'), { force: true });
    },
  };
}
