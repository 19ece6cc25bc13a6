/**
 * What the hub answers under `/storage/` (PROTOCOL.md §10.4, §10.7): a file to stream, a redirect
 * (`latest` → the concrete version, so a resumed download never mixes two versions) or a JSON
 * error. Deciding is pure; the file server adapter streams and applies the Range rules.
 */
import { isSemVerOrLatest } from '../../protocol/hub-api.schema.js';
import { SERVICE_ID_PATTERN } from '../../protocol/ids.js';
import { downloadPathOf, findPackage } from './catalogue.js';
import type { CatalogueView } from './catalogue.actor.js';
import type { StorageAnswer } from '../../kernel/ports/hub-storage.port.js';
import { MODEL_ID_PATTERN, MODEL_VERSION_PATTERN } from '../../protocol/hub-storage.schema.js';
import { freshForModel, freshForService, INVALID_PARAMETER, MODEL_NOT_FOUND, SERVICE_NOT_FOUND, VERSION_NOT_FOUND } from './hub.routes.js';

const INVALID_FILE_PATH = { kind: 'json', status: 400, json: { detail: 'Invalid file path' } } as const;
const NOT_FOUND = { kind: 'json', status: 404, json: { detail: 'Not Found' } } as const;

function json(response: { status: number; json?: unknown }): StorageAnswer {
  return { kind: 'json', status: response.status, json: response.json };
}

function decodeSegments(raw: readonly string[]): string[] | undefined {
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** A relative model file path (§10.7): no `..`, not absolute, no empty or `.` segments, no backslash or NUL. */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

export async function resolveStorageRequest(view: CatalogueView, pathname: string, signal: AbortSignal): Promise<StorageAnswer> {
  const raw = pathname.split('/').slice(1);
  if (raw[0] !== 'storage') return NOT_FOUND;
  if (raw[1] === 'services' && raw.length === 4) {
    const segments = decodeSegments(raw);
    const id = segments?.[2];
    const file = segments?.[3];
    if (id === undefined || file === undefined || !file.endsWith('.zip')) return NOT_FOUND;
    const version = file.slice(0, -'.zip'.length);
    if (!SERVICE_ID_PATTERN.test(id) || !isSemVerOrLatest(version)) return json(INVALID_PARAMETER);
    const catalogue = await freshForService(view, id, signal);
    const record = findPackage(catalogue, id, version);
    if (!record) return json(catalogue.services.has(id) ? VERSION_NOT_FOUND : SERVICE_NOT_FOUND);
    if (version === 'latest') return { kind: 'redirect', location: downloadPathOf(id, record.version) };
    return {
      kind: 'file',
      path: record.file,
      etag: `"${record.sha256}"`,
      contentType: 'application/zip',
      filename: `${id}-${record.version}.zip`,
      missingDetail: 'Version not found',
      counter: 'package',
    };
  }
  if (raw[1] === 'models' && raw.length >= 5) {
    const segments = decodeSegments(raw);
    if (!segments) return INVALID_FILE_PATH;
    const [, , modelId = '', version = '', ...rest] = segments;
    if (!MODEL_ID_PATTERN.test(modelId) || !MODEL_VERSION_PATTERN.test(version)) return json(INVALID_PARAMETER);
    // Each segment was decoded on its own: an encoded `/` inside one shows up here as a separator.
    const filePath = rest.join('/');
    if (!isSafeRelativePath(filePath)) return INVALID_FILE_PATH;
    const model = (await freshForModel(view, modelId, signal)).models.get(modelId);
    if (!model) return json(MODEL_NOT_FOUND);
    const entry = model.versions.find((v) => v.version === version);
    if (!entry) return json(VERSION_NOT_FOUND);
    return { kind: 'file', path: `${entry.dir}/${filePath}`, contentType: 'application/octet-stream', missingDetail: 'File not found', counter: 'model' };
  }
  return NOT_FOUND;
}
