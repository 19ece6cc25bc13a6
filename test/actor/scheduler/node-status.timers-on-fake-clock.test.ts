/**
 * The node status machine's own timers as an actor on a FakeClock (PROTOCOL.md §4.4–§4.5):
 * warm-up, liveness restarted by heartbeats, offline retention, and the backstop scan actor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import { statusScanActor } from '../../../src/actors/scheduler/status-scan.actor.js';
import { FakeClock } from '../../../src/kernel/clock.js';
import { nodeStatusMachine } from '../../../src/machines/node-status.machine.js';
import type { NodeStatusOptions } from '../../../src/machines/node-status.machine.js';

const OPTIONS: NodeStatusOptions = { healthCheckCount: 3, failureWindow: 5, failureCount: 3, consecutiveFailures: 3, warmupTimeoutMs: 60_000, heartbeatTimeoutMs: 45_000, offlineRetentionMs: 60_000 };

const actors: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const a of actors.splice(0)) a.stop();
});

function startNode(clock: FakeClock) {
  const actor: Actor<typeof nodeStatusMachine> = createActor(nodeStatusMachine, { clock, input: { nodeId: 'node-1', registeredAt: clock.now(), options: OPTIONS } });
  const changes: Array<[number, string, string]> = [];
  const expired: number[] = [];
  actor.on('node.statusChanged', (e) => changes.push([clock.now() - start, e.to, e.reason]));
  actor.on('node.expired', () => expired.push(clock.now() - start));
  actor.subscribe({ error: () => undefined });
  const start = clock.now();
  actor.start();
  actors.push(actor);
  const heartbeat = (healthy: boolean) => actor.send({ type: 'node.heartbeat', healthy, at: clock.now() });
  return { actor, changes, expired, heartbeat };
}

describe('node status timers', () => {
  it('degrades a node still registering exactly 60 s after registration (warmup_timeout)', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    for (let i = 0; i < 4; i++) {
      node.heartbeat(false);
      clock.advance(15_000);
    }
    expect(node.changes).toEqual([
      [0, 'registering', 'registered'],
      [60_000, 'degraded', 'warmup_timeout'],
    ]);
  });

  it('does not fire the warm-up once the node is ready', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    for (let i = 0; i < 3; i++) node.heartbeat(true);
    clock.advance(40_000);
    node.heartbeat(true);
    clock.advance(40_000);
    expect(node.changes.map(([, to]) => to)).toEqual(['registering', 'ready']);
  });

  it('goes offline 45 s after the last accepted heartbeat: every heartbeat restarts the timer', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    clock.advance(30_000);
    node.heartbeat(true);
    clock.advance(44_999);
    expect(node.changes.map(([, to]) => to)).toEqual(['registering', 'degraded']);
    clock.advance(1);
    expect(node.changes.at(-1)).toEqual([75_000, 'offline', 'heartbeat_timeout']);
  });

  it('goes offline 45 s after registration when no heartbeat ever comes', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    clock.advance(45_000);
    expect(node.changes.at(-1)).toEqual([45_000, 'offline', 'heartbeat_timeout']);
  });

  it('expires an offline node after the retention time, unless it registers again first', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    node.actor.send({ type: 'node.connectionClosed' });
    clock.advance(59_999);
    expect(node.expired).toEqual([]);
    clock.advance(1);
    expect(node.expired).toEqual([60_000]);

    const other = startNode(clock);
    other.actor.send({ type: 'node.connectionClosed' });
    clock.advance(30_000);
    other.actor.send({ type: 'node.reregistered', at: clock.now() });
    clock.advance(40_000);
    expect(other.expired).toEqual([]);
    // The liveness timer restarted with the registration: offline 45 s after it.
    clock.advance(5_000);
    expect(other.changes.at(-1)).toEqual([75_000, 'offline', 'heartbeat_timeout']);
  });

  it('restarts the warm-up from a re-registration', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    clock.advance(40_000);
    node.heartbeat(false);
    node.actor.send({ type: 'node.reregistered', at: clock.now() });
    for (let i = 0; i < 3; i++) {
      clock.advance(20_000);
      node.heartbeat(false);
    }
    expect(node.changes.map(([at, to, reason]) => [at, to, reason])).toEqual([
      [0, 'registering', 'registered'],
      [40_000, 'registering', 'registered'],
      [100_000, 'degraded', 'warmup_timeout'],
    ]);
  });

  it('drops every timer when quiesced, so stopping many machines stays cheap, and ignores all but shutdown', () => {
    const clock = new FakeClock();
    const node = startNode(clock);
    node.heartbeat(false);
    expect(clock.pending).toBe(2);
    node.actor.send({ type: 'node.quiesce' });
    expect(clock.pending).toBe(0);
    node.heartbeat(true);
    node.actor.send({ type: 'node.connectionClosed' });
    clock.advance(600_000);
    expect(node.changes.map(([, to]) => to)).toEqual(['registering']);
    node.actor.send({ type: 'supervisor.shutdown' });
    expect(node.actor.getSnapshot().status).toBe('done');
  });

  it('runs the backstop scan every status_scan_interval_ms on the clock, and stops with its actor', () => {
    const clock = new FakeClock();
    const ticks: number[] = [];
    const start = clock.now();
    const scan = createActor(statusScanActor, { clock, input: { clock, intervalMs: 30_000, scan: () => ticks.push(clock.now() - start) } });
    scan.start();
    clock.advance(95_000);
    expect(ticks).toEqual([30_000, 60_000, 90_000]);
    scan.stop();
    clock.advance(60_000);
    expect(ticks).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });
});
