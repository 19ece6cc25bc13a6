/**
 * Loopback TCP ports over `node:net` (LoopbackPortPort): a port is free when a listener can bind
 * `127.0.0.1:<port>` right now (on Linux this fails too while another process holds it on
 * `0.0.0.0`); a free port is one the OS hands out for port 0.
 */
import { createServer } from 'node:net';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { LoopbackPortPort } from '../kernel/ports/loopback-port.port.js';

const HOST = '127.0.0.1';

function bind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    // `exclusive` keeps a cluster primary from sharing a handle; the listener is closed at once.
    server.listen({ port, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

export function createLoopbackPortAdapter(): LoopbackPortPort {
  return {
    async isFree(port, signal) {
      if (signal.aborted) throw new AbortedError('port check aborted');
      return (await bind(port)) === port;
    },
    async pickFree(signal) {
      if (signal.aborted) throw new AbortedError('port choice aborted');
      const port = await bind(0);
      if (port === undefined) throw new KernelError('NO_FREE_PORT', `no free port on ${HOST}`, { retryable: true });
      return port;
    },
  };
}
