/**
 * Hot-plug reaches the scheduler (issue "Node: service hot-plug"): a real node (link, heartbeats,
 * services runtime) against a scripted scheduler, with a real service process, on a fake clock.
 * Stopping the service produces exactly one heartbeat `heartbeat_debounce_ms` later that shows it
 * stopped; starting it again produces one more that shows it running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeRole } from '../../../src/cli/node-role.js';
import type { NodeRoleHandle } from '../../../src/cli/node-role.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { installService, pumpUntil, recordPids, settle } from '../../support/hotplug-harness.js';
import { tempDataDir } from '../../support/node-harness.js';
import { ScriptedScheduler } from '../../support/scripted-scheduler.js';
import { FakeHardware } from '../../fakes/hardware.fake.js';

type Frame = { type: string } & Record<string, unknown>;
type Heartbeat = Frame & { installed_services: Array<{ service_id: string; status: string }>; capability_by_type: Array<{ type: string; ready: boolean; reason?: string }> };

const DEBOUNCE_MS = 2_000;

let scheduler: ScriptedScheduler;
let node: NodeRoleHandle;
let clock: FakeClock;

const heartbeats = (): Heartbeat[] => scheduler.last.received.filter((f): f is Heartbeat => f.type === 'node_heartbeat');

beforeAll(async () => {
  scheduler = await ScriptedScheduler.start();
  clock = new FakeClock();
  const dataDir = tempDataDir();
  installService(dataDir, { id: 'tts-es', type: 'tts' });
  node = await startNodeRole({
    schedulerUrl: scheduler.url,
    dataDir,
    httpPort: 0,
    clock,
    random: () => 0,
    allowCpuServices: true,
    heartbeatIntervalMs: 600_000,
    heartbeatDebounceMs: DEBOUNCE_MS,
    services: { probeIntervalMs: 30_000 },
    // Instant hardware samples and no audio workers: only the service process is real here, so fake
    // time does not drift while real I/O is awaited.
    hardware: new FakeHardware(),
    jobs: () => ({ children: [], runningJobs: () => 0 }),
  });
  await settle(clock, node.ready, 'node endpoint');
  await pumpUntil(clock, () => node.services.registry.get('tts-es')?.state === 'running', 'tts-es running');
  recordPids(node.services.registry.get('tts-es')!.pid!);
  await pumpUntil(clock, () => scheduler.connections.length > 0 && scheduler.last.received.some((f) => f.type === 'node_register'), 'node_register');
  scheduler.last.send({ type: 'node_register_ack', node_id: 'node-0000ABCD', message: 'Node registered successfully', status: 'registering' });
  await pumpUntil(clock, () => heartbeats().length >= 1, 'heartbeat after the ack');
  // Let the debounced heartbeat of the start-up burst (if any) go out, so the test starts from quiet.
  await clock.advanceAsync(DEBOUNCE_MS);
  await clock.advanceAsync(DEBOUNCE_MS);
});

afterAll(async () => {
  await settle(clock, node.stop(), 'node stop');
  await scheduler.close();
});

describe('service hot-plug seen by the scheduler', () => {
  it('a stop gives exactly one heartbeat, debounce later, with the service stopped and TTS no longer ready', async () => {
    const before = heartbeats().length;
    let lastChangeAt = 0;
    const off = node.bus.subscribe('service.statusChanged', () => (lastChangeAt = clock.now()));
    // The stop itself is real process I/O: pump in steps of 0 so fake time stands still meanwhile.
    const stopped = node.services.control.stop('tts-es', new AbortController().signal);
    let done = false;
    void stopped.finally(() => (done = true));
    await pumpUntil(clock, () => done, 'stop', { stepMs: 0 });
    off();
    expect(node.services.registry.get('tts-es')?.state).toBe('stopped');
    await clock.advanceAsync(lastChangeAt + DEBOUNCE_MS - 1 - clock.now());
    expect(heartbeats().length).toBe(before);
    await clock.advanceAsync(1);
    await pumpUntil(clock, () => heartbeats().length === before + 1, 'debounced heartbeat', { stepMs: 0 });
    expect(clock.now() - lastChangeAt).toBe(DEBOUNCE_MS);
    const hb = heartbeats().at(-1)!;
    expect(hb.installed_services).toEqual([expect.objectContaining({ service_id: 'tts-es', status: 'stopped' })]);
    expect(hb.capability_by_type).toEqual([expect.objectContaining({ type: 'tts', ready: false, reason: 'no_running_impl' })]);
    await clock.advanceAsync(5_000);
    expect(heartbeats().length).toBe(before + 1);
  });

  it('a start gives one more heartbeat that shows it running and TTS ready', async () => {
    const before = heartbeats().length;
    await settle(clock, node.services.control.start('tts-es', new AbortController().signal), 'start');
    recordPids(node.services.registry.get('tts-es')!.pid!);
    await clock.advanceAsync(DEBOUNCE_MS);
    await pumpUntil(clock, () => heartbeats().length > before, 'debounced heartbeat', { stepMs: 0 });
    await clock.advanceAsync(5_000);
    expect(heartbeats().length).toBe(before + 1);
    const hb = heartbeats().at(-1)!;
    expect(hb.installed_services).toEqual([expect.objectContaining({ service_id: 'tts-es', status: 'running' })]);
    expect(hb.capability_by_type).toEqual([expect.objectContaining({ type: 'tts', ready: true })]);
  });
});
