/**
 * Starts a whole node (`startNode`) on a fake clock against a scripted scheduler, with a fake
 * hardware port (a GPU box), a fake service registry and a JSON log captured in memory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { NodeHandle, StartNodeOptions } from '../../src/cli/start-node.js';
import { startNode } from '../../src/cli/start-node.js';
import { createBus } from '../../src/kernel/bus.js';
import type { BusEvent, BusEventType } from '../../src/kernel/bus.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { createLogger } from '../../src/kernel/logger.js';
import { FakeHardware } from '../fakes/hardware.fake.js';
import { FakeServiceRegistry } from '../fakes/service-registry.fake.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'lm-node-'));
}

export async function startTestNode(schedulerUrl: string, options: Partial<StartNodeOptions> & { clock?: FakeClock } = {}) {
  const clock = options.clock ?? new FakeClock();
  const t0 = clock.now();
  const bus = createBus();
  const registry = new FakeServiceRegistry(bus);
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const events: BusEvent[] = [];
  bus.subscribeAll((e) => events.push(e));
  const dataDir = options.dataDir ?? tempDataDir();
  const node: NodeHandle = startNode({
    schedulerUrl,
    dataDir,
    httpPort: 0,
    hardware: new FakeHardware(),
    services: { registry },
    logger: createLogger({ level: 'debug', format: 'json', destination }),
    // Tests that are not about liveness must not depend on real pong timing under fake time.
    linkDeadMs: 600_000,
    ...options,
    clock,
    bus,
  });
  const { httpPort } = await node.ready;
  const http = async (method: 'GET' | 'POST', path: string) => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { method });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  const of = <K extends BusEventType>(type: K) => events.filter((e): e is Extract<BusEvent, { type: K }> => e.type === type);
  return { node, clock, t0, dataDir, bus, registry, logs, events, of, http, httpPort };
}
