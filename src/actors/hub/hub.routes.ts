/**
 * The hub's JSON API (PROTOCOL.md §10.1–§10.3, §10.5–§10.7). Parameters are checked before any
 * lookup (`400 {"detail":"Invalid parameter"}`). Before answering, the storage directories the
 * request concerns are stamped (one `stat` each): when one changed since the last scan, the hub
 * rescans first, so a package published a moment ago is served at once, and requests for names
 * that do not exist cost no scan.
 */
import type { HttpRequest, HttpResponse, HttpRoute } from '../../kernel/ports/http.port.js';
import { isSemVer } from '../../protocol/hub-api.schema.js';
import type { HubHealthResponse, HubRootResponse } from '../../protocol/hub-api.schema.js';
import { MODEL_ID_PATTERN } from '../../protocol/hub-storage.schema.js';
import { SERVICE_ID_PATTERN } from '../../protocol/ids.js';
import { checksumBody, findPackage, modelInfoBody, serviceDetailBody, serviceListBody, signatureBody } from './catalogue.js';
import type { Catalogue } from './catalogue.js';
import type { CatalogueView } from './catalogue.actor.js';

export interface HubInfo {
  /** `GET /` message. */
  message: string;
  /** `GET /` version (the linguamesh version). */
  version: string;
}

export const INVALID_PARAMETER: HttpResponse = { status: 400, json: { detail: 'Invalid parameter' } };
export const SERVICE_NOT_FOUND: HttpResponse = { status: 404, json: { detail: 'Service not found' } };
export const VERSION_NOT_FOUND: HttpResponse = { status: 404, json: { detail: 'Version not found' } };
export const MODEL_NOT_FOUND: HttpResponse = { status: 404, json: { detail: 'Model not found' } };

/** The catalogue as fresh as the storage directories of one service (see `CatalogueView.fresh`). */
export function freshForService(view: CatalogueView, id: string, signal: AbortSignal): Promise<Catalogue> {
  return view.fresh(['services', `service:${id}`], signal);
}

export function freshForModel(view: CatalogueView, id: string, signal: AbortSignal): Promise<Catalogue> {
  return view.fresh(['models', `model:${id}`], signal);
}

/** A version of a service, or the 404 that names which of the two is unknown. */
async function packageOr404(view: CatalogueView, req: HttpRequest, id: string, version: string) {
  const catalogue = await freshForService(view, id, req.signal);
  const record = findPackage(catalogue, id, version);
  if (record) return { record };
  return { missing: catalogue.services.has(id) ? VERSION_NOT_FOUND : SERVICE_NOT_FOUND };
}

export function hubRoutes(view: CatalogueView, info: HubInfo): HttpRoute[] {
  const validService = (id: string | undefined): id is string => id !== undefined && SERVICE_ID_PATTERN.test(id);
  return [
    { method: 'GET', path: '/health', handle: () => ({ status: 200, json: { status: 'OK' } satisfies HubHealthResponse }) },
    { method: 'GET', path: '/', handle: () => ({ status: 200, json: { message: info.message, version: info.version } satisfies HubRootResponse }) },
    {
      method: 'GET',
      path: '/api/services',
      handle: async (req) => {
        const keys = ['services', ...[...view.current().services.keys()].map((id) => `service:${id}`)];
        return { status: 200, json: serviceListBody(await view.fresh(keys, req.signal)) };
      },
    },
    {
      method: 'GET',
      path: '/api/services/:id',
      handle: async (req) => {
        const id = req.params.id;
        if (!validService(id)) return INVALID_PARAMETER;
        const entry = (await freshForService(view, id, req.signal)).services.get(id);
        return entry ? { status: 200, json: serviceDetailBody(entry) } : SERVICE_NOT_FOUND;
      },
    },
    {
      method: 'GET',
      path: '/api/services/:id/:version/checksum',
      handle: async (req) => {
        const { id, version } = req.params;
        if (!validService(id) || version === undefined || !isSemVer(version)) return INVALID_PARAMETER;
        const found = await packageOr404(view, req, id, version);
        return found.record ? { status: 200, json: checksumBody(found.record) } : found.missing;
      },
    },
    {
      method: 'GET',
      path: '/api/services/:id/:version/signature',
      handle: async (req) => {
        const { id, version } = req.params;
        if (!validService(id) || version === undefined || !isSemVer(version)) return INVALID_PARAMETER;
        const found = await packageOr404(view, req, id, version);
        if (!found.record) return found.missing;
        const body = signatureBody(found.record);
        return body ? { status: 200, json: body } : { status: 404, json: { detail: 'Signature not found' } };
      },
    },
    {
      method: 'GET',
      path: '/api/models',
      handle: async (req) => {
        const keys = ['models', ...[...view.current().models.keys()].map((id) => `model:${id}`)];
        return { status: 200, json: [...(await view.fresh(keys, req.signal)).models.values()].map(modelInfoBody) };
      },
    },
    {
      method: 'GET',
      path: '/api/models/:modelId',
      handle: async (req) => {
        const id = req.params.modelId;
        if (id === undefined || !MODEL_ID_PATTERN.test(id)) return INVALID_PARAMETER;
        const model = (await freshForModel(view, id, req.signal)).models.get(id);
        return model ? { status: 200, json: modelInfoBody(model) } : MODEL_NOT_FOUND;
      },
    },
  ];
}
