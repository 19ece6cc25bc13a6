/**
 * HTTP routes as data. Role logic (actors) declares what it serves with these types; the HTTP
 * adapter owns the socket. Actors never import `node:http`.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  /** Path without the query string. */
  path: string;
  /** Values of `:name` segments of the route's path. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** The body parsed as JSON (bounded by the server's `maxBodyBytes`); rejects with INVALID_MESSAGE. */
  json(): Promise<unknown>;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Serialized as `application/json; charset=utf-8`. */
  json?: unknown;
  /** Served as `text/plain; charset=utf-8` (or `contentType`). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface HttpRoute {
  method: HttpMethod;
  /** Path with `:name` segments, e.g. `/api/services/:id`. */
  path: string;
  handle(request: HttpRequest): Promise<HttpResponse> | HttpResponse;
}

/** A running HTTP listener. */
export interface HttpServerHandle {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly host: string;
  /** Stops accepting, ends keep-alive connections, waits for in-flight requests within the bound. */
  close(): Promise<void>;
}
