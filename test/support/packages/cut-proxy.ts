/**
 * An HTTP proxy in front of a hub that can cut package downloads after a number of body bytes
 * (the socket is destroyed mid-body, as when the hub dies) and can refuse every connection (the
 * hub is gone). Everything else is forwarded unchanged. It records each zip request's Range.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { request } from 'undici';

export interface CutProxy {
  readonly url: string;
  /** Cut each zip body after this many bytes (undefined: never). */
  cutAfterBytes: number | undefined;
  /** Send each zip body up to this many bytes, then hold the connection open with nothing more. */
  stallAfterBytes: number | undefined;
  /** Forward zip requests without their Range (a hub that ignores ranges answers 200). */
  dropRange: boolean;
  /** Reset every connection. */
  refusing: boolean;
  /** Range headers of the zip requests, in order (`''` when none). */
  readonly zipRanges: string[];
  close(): Promise<void>;
}

export async function startCutProxy(target: string): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  const state = { cutAfterBytes: undefined as number | undefined, stallAfterBytes: undefined as number | undefined, dropRange: false, refusing: false, zipRanges: [] as string[] };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const isZip = (req.url ?? '').endsWith('.zip');
      if (isZip) state.zipRanges.push(String(req.headers.range ?? ''));
      const headers: Record<string, string> = {};
      for (const name of state.dropRange && isZip ? ['accept'] : ['range', 'if-range', 'if-none-match', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = await request(`${target}${req.url ?? '/'}`, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(upstream.headers)) if (typeof v === 'string' && k !== 'connection' && k !== 'keep-alive') out[k] = v;
      res.writeHead(upstream.statusCode, out);
      const limit = isZip ? state.cutAfterBytes : undefined;
      const stallAt = isZip ? state.stallAfterBytes : undefined;
      let sent = 0;
      for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
        if (stallAt !== undefined && sent + chunk.length >= stallAt) {
          res.write(chunk.subarray(0, stallAt - sent));
          upstream.body.destroy();
          return;
        }
        if (limit !== undefined && sent + chunk.length >= limit) {
          res.write(chunk.subarray(0, limit - sent));
          // Let the bytes reach the client, then drop the connection mid-body.
          setTimeout(() => res.socket?.destroy(), 20);
          upstream.body.destroy();
          return;
        }
        sent += chunk.length;
        res.write(chunk);
      }
      res.end();
    })().catch(() => res.socket?.destroy());
  });
  server.on('connection', (socket) => {
    if (state.refusing) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get cutAfterBytes() {
      return state.cutAfterBytes;
    },
    set cutAfterBytes(v) {
      state.cutAfterBytes = v;
    },
    get stallAfterBytes() {
      return state.stallAfterBytes;
    },
    set stallAfterBytes(v) {
      state.stallAfterBytes = v;
    },
    get dropRange() {
      return state.dropRange;
    },
    set dropRange(v) {
      state.dropRange = v;
    },
    get refusing() {
      return state.refusing;
    },
    set refusing(v) {
      state.refusing = v;
      if (v) for (const s of sockets) s.destroy();
    },
    zipRanges: state.zipRanges,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
