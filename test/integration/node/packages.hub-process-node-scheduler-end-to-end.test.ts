/**
 * Issue "Model hub and service packages", end to end: a hub as its own OS process (`linguamesh
 * hub`), the real scheduler and a real node (`startNodeRole` with `hubUrl`) on loopback, sharing one
 * fake clock, and the reference TTS service (native/services/tts-espeak, built with
 * `buildServiceDirectory`) as the package.
 *
 * `linguamesh pkg pack` / `pkg publish` put it into the hub's storage, `linguamesh pkg install`
 * asks the node's control endpoint to install it, it runs, and the scheduler's `/api/v1/nodes`
 * shows the node's TTS capability and languages. A new version switches with no gap in `/health`
 * (a poller asks the address the node's `/api/services/tts-espeak` names every ~20 ms); broken new
 * versions are rolled back while the old one serves; an uninstall removes the service. The
 * scheduler announces an hour-long heartbeat period, so each change reaches it through the node's
 * debounced heartbeat (PROTOCOL.md §3.2, §10.9 step 9).
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPackage } from '../../../src/adapters/hub-publish.adapter.js';
import { createPackageControlClient } from '../../../src/adapters/package-control-client.adapter.js';
import { packServiceDirectory } from '../../../src/adapters/package-pack.adapter.js';
import { buildServiceDirectory } from '../../../src/adapters/service-bundle.adapter.js';
import { startNodeRole } from '../../../src/cli/node-role.js';
import type { NodeRoleHandle } from '../../../src/cli/node-role.js';
import { startScheduler } from '../../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../../src/cli/start-scheduler.js';
import type { BusEvent } from '../../../src/kernel/bus.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { createLogger, silentLogger } from '../../../src/kernel/logger.js';
import type { StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import type { PackageOperation } from '../../../src/protocol/package-control.schema.js';
import { alive } from '../../support/hotplug-harness.js';
import { runCli, startHubProcess } from '../../support/packages/cli-process.js';
import type { HubProcess } from '../../support/packages/cli-process.js';
import { currentOf, versionsOf } from '../../support/packages/node-harness.js';
import { recordPid } from '../../support/pids.js';
import { ENGINE_TEST_TIMEOUT_MS, SERVICES_SOURCE_DIR } from '../../support/service-process.js';
import { FakeHardware } from '../../fakes/hardware.fake.js';

const ID = 'tts-espeak';
const DEBOUNCE_MS = 500;

let tmp: string;
let storage: string;
let dataDir: string;
let built: string;
let hungEngineDir: string;
let hub: HubProcess;
let scheduler: SchedulerHandle;
let node: NodeRoleHandle;
let nodeUrl: string;
const clock = new FakeClock();
const events: BusEvent[] = [];
const servicePids = new Set<number>();

/** Waits (really) for real I/O while moving fake time in small steps. */
async function pumpUntil(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await clock.advanceAsync(20);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function pumped<T>(promise: Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await pumpUntil(() => settled, what, timeoutMs);
  return promise;
}

/** Copies the built service as `version`, with its service.json changed by `edit`. */
async function variant(version: string, edit: (json: Record<string, unknown>) => void = () => undefined): Promise<string> {
  const dir = join(tmp, `${ID}-${version}`);
  await cp(built, dir, { recursive: true });
  const json = JSON.parse(await readFile(join(dir, 'service.json'), 'utf8')) as Record<string, unknown>;
  json.version = version;
  edit(json);
  await writeFile(join(dir, 'service.json'), JSON.stringify(json, null, 2));
  return dir;
}

/** `linguamesh pkg pack` then `pkg publish` into the hub's storage. */
async function packAndPublishWithCli(dir: string, version: string): Promise<void> {
  const zip = join(tmp, `${ID}-${version}.zip`);
  const packed = await runCli(['pkg', 'pack', dir, '--out', zip]);
  expect(packed, packed.stderr).toMatchObject({ code: 0 });
  const published = await runCli(['pkg', 'publish', zip, '--storage', storage]);
  expect(published, published.stderr).toMatchObject({ code: 0 });
  expect(published.stdout).toContain(`published ${ID}@${version}`);
}

/** The same, through the adapters the CLI runs (for the broken variants, to keep the test short). */
async function packAndPublish(dir: string, version: string): Promise<void> {
  const packed = await packServiceDirectory({ sourceDir: dir, outFile: join(tmp, `${ID}-${version}.zip`) });
  await publishPackage({ storageDir: storage, zipPath: packed.file });
}

/** Starts an install through the node's control endpoint and follows it to its end. */
async function installThroughControl(version: string): Promise<PackageOperation> {
  const client = createPackageControlClient(nodeUrl);
  let op = await client.begin('install', ID, version);
  const following = (async () => {
    while (op.state === 'running') {
      await new Promise((r) => setTimeout(r, 50));
      op = await client.operation(op.operation_id);
    }
    return op;
  })();
  return pumped(following, `install ${version}`);
}

async function schedulerNode(): Promise<StoredNode | undefined> {
  const res = await fetch(`http://127.0.0.1:${scheduler.port}/api/v1/nodes`);
  const body = (await res.json()) as { nodes: StoredNode[] };
  return body.nodes[0];
}

/** Pumps until the scheduler's `/api/v1/nodes` shows a node record `accept` takes. */
async function untilScheduler(accept: (node: StoredNode) => boolean, what: string): Promise<StoredNode> {
  let seen: StoredNode | undefined;
  let asking = false;
  await pumpUntil(() => {
    if (!asking) {
      asking = true;
      void schedulerNode()
        .then((n) => (seen = n && accept(n) ? n : seen))
        .finally(() => (asking = false));
    }
    return seen !== undefined;
  }, what);
  return seen!;
}

interface Poll {
  failures: string[];
  versions: string[];
  states: Set<string>;
}

/** Every ~20 ms of real time: the address `/api/services/tts-espeak` names, then its `/health`. */
function pollHealth(): { stop(): Promise<Poll> } {
  const poll: Poll = { failures: [], versions: [], states: new Set() };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const service = (await (await fetch(`${nodeUrl}/api/services/${ID}`)).json()) as { state: string; version?: string; baseUrl?: string };
        poll.states.add(service.state);
        const res = await fetch(`${service.baseUrl}/health`, { signal: AbortSignal.timeout(3_000) });
        const health = (await res.json()) as { status?: string };
        if (res.status !== 200 || health.status !== 'ok') poll.failures.push(`${service.baseUrl}: ${res.status} ${JSON.stringify(health)}`);
        else if (poll.versions.at(-1) !== service.version) poll.versions.push(service.version ?? '?');
      } catch (err) {
        poll.failures.push(String(err));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return poll;
    },
  };
}

/** Index of the next event, to look at what one step produced. */
const mark = () => events.length;
const since = (from: number) => events.slice(from);

/** A debounced heartbeat went out after the step's `package.*` event. */
async function untilDebouncedHeartbeatAfter(from: number, type: 'package.installed' | 'package.uninstalled' | 'package.failed'): Promise<void> {
  await pumpUntil(() => {
    const after = since(from);
    const at = after.findIndex((e) => e.type === type);
    return at >= 0 && after.slice(at).some((e) => e.type === 'heartbeat.sent' && e.trigger === 'debounced');
  }, `a debounced heartbeat after ${type}`);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lm-pkg-e2e-'));
  storage = join(tmp, 'storage');
  dataDir = join(tmp, 'node');
  built = (await buildServiceDirectory(join(SERVICES_SOURCE_DIR, ID), join(tmp, `${ID}-build`))).outDir;
  hungEngineDir = join(tmp, 'hung-engine');
  await mkdir(hungEngineDir);
  await writeFile(join(hungEngineDir, 'espeak-ng'), '#!/bin/sh\nexec sleep 120\n', { mode: 0o755 });
  hub = await startHubProcess({ storage });

  scheduler = startScheduler({
    host: '127.0.0.1',
    port: 0,
    clock,
    logger: silentLogger(),
    requiredServiceTypes: ['tts'],
    // Hour-long periods: what the scheduler learns about services comes from debounced heartbeats.
    heartbeatIntervalMs: 3_600_000,
    heartbeatTimeoutMs: 7_200_000,
    wsIdleTimeoutMs: 7_200_000,
    warmupTimeoutMs: 7_200_000,
    storeTtlMs: 20_000_000,
  });
  await pumped(scheduler.ready, 'scheduler listening');

  // Service output goes to the log; every service process the node starts is recorded from it.
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { msg?: string; pid?: number };
        if (entry.msg === 'service process started' && entry.pid !== undefined && !servicePids.has(entry.pid)) {
          servicePids.add(entry.pid);
          recordPid(entry.pid);
        }
      }
      callback();
    },
  });
  node = await startNodeRole({
    schedulerUrl: `ws://127.0.0.1:${scheduler.port}`,
    dataDir,
    httpPort: 0,
    clock,
    random: () => 0,
    logger: createLogger({ level: 'info', format: 'json', destination }),
    hubUrl: hub.url,
    allowCpuServices: true,
    heartbeatDebounceMs: DEBOUNCE_MS,
    hardware: new FakeHardware(),
    services: { switchDrainMs: 500 },
    packages: { activationTimeoutMs: 60_000 },
  });
  node.bus.subscribeAll((event) => events.push(event));
  nodeUrl = `http://127.0.0.1:${(await pumped(node.ready, 'node endpoint')).httpPort}`;
  await untilScheduler(() => true, 'the node registered at the scheduler');
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  try {
    if (node) await pumped(node.stop(), 'node stop');
    await scheduler?.stop();
    await hub?.stop();
  } finally {
    for (const pid of servicePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone, as it should be */
      }
    }
    await rm(tmp, { recursive: true, force: true });
  }
}, ENGINE_TEST_TIMEOUT_MS);

describe('hub process → node → scheduler: the reference TTS service as a package', () => {
  let v1: { pid: number; baseUrl: string };

  it('pkg pack + pkg publish, then pkg install on the node: the service runs and the scheduler sees TTS with its languages', async () => {
    await packAndPublishWithCli(built, '1.0.0');
    const from = mark();
    const installed = await pumped(runCli(['pkg', 'install', ID, '--node', nodeUrl]), 'pkg install');
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    expect(installed.stdout).toContain(`installed ${ID}@1.0.0`);

    const service = node.services.registry.get(ID)!;
    expect(service).toMatchObject({ id: ID, version: '1.0.0', state: 'running', type: 'tts', dir: join(dataDir, 'services', ID, '1.0.0') });
    v1 = { pid: service.pid!, baseUrl: service.baseUrl! };
    expect(await (await fetch(`${v1.baseUrl}/health`)).json()).toMatchObject({ status: 'ok' });
    expect(await currentOf(join(dataDir, 'services'), ID)).toBe('1.0.0');
    // The package manager's work directory sits among the services, and is no service.
    expect(await readdir(join(dataDir, 'services'))).toEqual(expect.arrayContaining(['.packages', ID]));
    expect(node.services.registry.list().map((s) => s.id)).toEqual([ID]);

    await untilDebouncedHeartbeatAfter(from, 'package.installed');
    const seen = await untilScheduler((n) => n.capabilities.ttsLanguages.length > 0, 'TTS at the scheduler');
    expect(seen.capabilities.capabilityByType).toEqual([{ type: 'tts', ready: true, ready_impl_ids: [ID] }]);
    expect(seen.capabilities.ttsLanguages).toEqual(expect.arrayContaining(['en', 'es']));
    expect(seen.capabilities.installedServices).toEqual([expect.objectContaining({ service_id: ID, type: 'tts', device: 'cpu', status: 'running', version: '1.0.0' })]);
  }, ENGINE_TEST_TIMEOUT_MS);

  it('a new version (1.0.1) switches with no gap in /health and runs afterwards', async () => {
    await packAndPublishWithCli(await variant('1.0.1'), '1.0.1');
    const from = mark();
    const poller = pollHealth();
    const installed = await pumped(runCli(['pkg', 'install', `${ID}@1.0.1`, '--node', nodeUrl]), 'pkg install 1.0.1');
    const poll = await poller.stop();
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    expect(installed.stdout).toContain(`installed ${ID}@1.0.1`);

    expect(poll.failures).toEqual([]);
    expect(poll.states).toEqual(new Set(['running']));
    expect(poll.versions).toEqual(['1.0.0', '1.0.1']);
    const service = node.services.registry.get(ID)!;
    expect(service).toMatchObject({ version: '1.0.1', state: 'running' });
    expect(service.baseUrl).not.toBe(v1.baseUrl);
    expect(alive(v1.pid)).toBe(false);
    expect(await currentOf(join(dataDir, 'services'), ID)).toBe('1.0.1');
    // The bus never heard the service stop or start during the switch: running, then running at
    // 1.0.1 (and maybe once more when its health answer names the voices it found).
    const changes = since(from).flatMap((e) => (e.type === 'service.statusChanged' ? [[e.state, e.reason]] : []));
    expect(changes[0]).toEqual(['running', 'version switched']);
    expect(new Set(changes.map(([state]) => state))).toEqual(new Set(['running']));

    await untilDebouncedHeartbeatAfter(from, 'package.installed');
    await untilScheduler((n) => n.capabilities.installedServices.some((s) => s.version === '1.0.1' && s.status === 'running'), 'version 1.0.1 at the scheduler');
  }, ENGINE_TEST_TIMEOUT_MS);

  const brokenVersions = [
    { version: '1.0.2', what: 'crashes at start', why: /exited with code 1 before it was ready/, edit: (json: Record<string, unknown>) => (json.exec = { command: 'node', args: ['no-such-entry.mjs'] }) },
    {
      version: '1.0.3',
      what: 'never turns healthy',
      why: /not ready within 3000 ms/,
      // Its engine hangs at warm-up (an `espeak-ng` that never answers): it listens, answers
      // `not_ready`, and is not ready within its startup timeout.
      edit: (json: Record<string, unknown>) => {
        json.env = { ...(json.env as object), PATH: `${hungEngineDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, SERVICE_ENGINE_TIMEOUT_MS: '600000' };
        json.startup_timeout_ms = 3_000;
      },
    },
  ];
  for (const broken of brokenVersions) {
    it(`a new version that ${broken.what} is rolled back: the old one serves throughout, current names it, the broken one is gone`, async () => {
      const before = node.services.registry.get(ID)!;
      await packAndPublish(await variant(broken.version, broken.edit), broken.version);
      const from = mark();
      const poller = pollHealth();
      const op = await installThroughControl(broken.version);
      const poll = await poller.stop();

      expect(op).toMatchObject({ state: 'failed', version: broken.version, error: { code: 'ACTIVATION_FAILED', message: expect.stringMatching(broken.why) } });
      expect(poll.failures).toEqual([]);
      expect(poll.versions).toEqual(['1.0.1']);
      expect(poll.states).toEqual(new Set(['running']));
      expect(node.services.registry.get(ID)).toMatchObject({ version: '1.0.1', state: 'running', pid: before.pid, baseUrl: before.baseUrl });
      expect(await currentOf(join(dataDir, 'services'), ID)).toBe('1.0.1');
      expect(await versionsOf(join(dataDir, 'services'), ID)).toEqual(['1.0.0', '1.0.1']);
      expect(since(from).filter((e) => e.type === 'service.statusChanged')).toEqual([]);
      expect(since(from)).toContainEqual(expect.objectContaining({ type: 'package.failed', serviceId: ID, version: broken.version, code: 'ACTIVATION_FAILED' }));
      // Nothing of the broken version keeps running.
      await pumpUntil(() => [...servicePids].filter((pid) => pid !== before.pid && alive(pid)).length === 0, 'no process but the running version');
    }, ENGINE_TEST_TIMEOUT_MS);
  }

  it('pkg uninstall removes every version: the service stops and leaves the registry, and the scheduler hears it', async () => {
    const pid = node.services.registry.get(ID)!.pid!;
    const from = mark();
    const removed = await pumped(runCli(['pkg', 'uninstall', ID, '--node', nodeUrl]), 'pkg uninstall');
    expect(removed, removed.stderr).toMatchObject({ code: 0 });
    expect(removed.stdout).toContain(`uninstalled ${ID}`);
    expect(alive(pid)).toBe(false);
    await pumpUntil(() => node.services.registry.get(ID) === undefined, 'the service forgotten');
    expect(await readdir(join(dataDir, 'services'))).toEqual(['.packages']);
    expect(since(from).filter((e) => e.type === 'package.uninstalled').map((e) => e.type === 'package.uninstalled' && e.version).sort()).toEqual(['1.0.0', '1.0.1']);
    expect(since(from)).toContainEqual(expect.objectContaining({ type: 'service.statusChanged', serviceId: ID, state: 'stopped', reason: 'removed' }));

    await untilDebouncedHeartbeatAfter(from, 'package.uninstalled');
    const seen = await untilScheduler((n) => n.capabilities.installedServices.length === 0, 'no services at the scheduler');
    expect(seen.capabilities.capabilityByType).toEqual([]);
    expect(seen.capabilities.ttsLanguages).toEqual([]);
  }, ENGINE_TEST_TIMEOUT_MS);
});
