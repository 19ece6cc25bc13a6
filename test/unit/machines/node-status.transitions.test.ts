/**
 * The node status machine as pure transitions (PROTOCOL.md §4.4; §12 items 17–19): counters,
 * window, reasons, and the emitted `node.statusChanged` of each transition.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot } from 'xstate';
import { nodeStatusMachine, nodeStatusOf } from '../../../src/machines/node-status.machine.js';
import type { NodeStatusEvent, NodeStatusOptions } from '../../../src/machines/node-status.machine.js';

const OPTIONS: NodeStatusOptions = { healthCheckCount: 3, failureWindow: 5, failureCount: 3, consecutiveFailures: 3, warmupTimeoutMs: 60_000, heartbeatTimeoutMs: 45_000, offlineRetentionMs: 60_000 };

type Snapshot = ReturnType<typeof initialTransition<typeof nodeStatusMachine>>[0];
type Change = [string, string, string];

function start(options: NodeStatusOptions = OPTIONS): { snapshot: Snapshot; changes: Change[] } {
  const [snapshot, actions] = initialTransition(nodeStatusMachine, { nodeId: 'node-1', registeredAt: 0, options });
  return { snapshot, changes: changesOf(actions) };
}

function changesOf(actions: Array<{ type: string; params?: unknown }>): Change[] {
  return actions
    .filter((a) => a.type === 'xstate.emit')
    .map((a) => (a.params as { event: { type: string; from?: string; to?: string; reason?: string } }).event)
    .filter((e) => e.type === 'node.statusChanged')
    .map((e) => [e.from!, e.to!, e.reason!]);
}

/** Feeds events; returns the last snapshot and every status change they caused. */
function feed(snapshot: Snapshot, events: NodeStatusEvent[]): { snapshot: Snapshot; changes: Change[] } {
  const changes: Change[] = [];
  let current = snapshot;
  for (const event of events) {
    const [next, actions] = transition(nodeStatusMachine, current, event);
    current = next;
    changes.push(...changesOf(actions));
  }
  return { snapshot: current, changes };
}

const beats = (pattern: string, at = 1_000): NodeStatusEvent[] => [...pattern].map((c) => ({ type: 'node.heartbeat', healthy: c === 'H', at }));
const status = (s: AnyMachineSnapshot) => nodeStatusOf(s.value);

function readyNode() {
  return feed(start().snapshot, beats('HHH')).snapshot;
}

describe('node status machine: registering', () => {
  it('enters registering on creation and announces it with reason registered', () => {
    const { snapshot, changes } = start();
    expect(status(snapshot)).toBe('registering');
    expect(changes).toEqual([['none', 'registering', 'registered']]);
  });

  it('becomes ready on the third healthy heartbeat in a row, not before (§12 item 17)', () => {
    const two = feed(start().snapshot, beats('HH'));
    expect(status(two.snapshot)).toBe('registering');
    expect(two.changes).toEqual([]);
    const three = feed(two.snapshot, beats('H'));
    expect(three.changes).toEqual([['registering', 'ready', 'healthy_heartbeats']]);
  });

  it('starts counting again after an unhealthy heartbeat: H, U, H, H stays registering; one more H is ready (§12 item 17)', () => {
    const four = feed(start().snapshot, beats('HUHH'));
    expect(status(four.snapshot)).toBe('registering');
    expect(feed(four.snapshot, beats('H')).changes).toEqual([['registering', 'ready', 'healthy_heartbeats']]);
  });

  it('honours a configured health_check_count', () => {
    const { snapshot } = start({ ...OPTIONS, healthCheckCount: 1 });
    expect(feed(snapshot, beats('H')).changes).toEqual([['registering', 'ready', 'healthy_heartbeats']]);
  });

  it('degrades on the backstop scan once the warm-up time has passed (§12 item 19)', () => {
    const { snapshot } = feed(start().snapshot, beats('UU', 40_000));
    expect(feed(snapshot, [{ type: 'node.scan', at: 59_999 }]).changes).toEqual([]);
    expect(feed(snapshot, [{ type: 'node.scan', at: 60_000 }]).changes).toEqual([['registering', 'degraded', 'warmup_timeout']]);
  });
});

describe('node status machine: ready and degraded', () => {
  it('degrades on U, H, U, H, U at the fifth heartbeat (§12 item 18)', () => {
    const four = feed(readyNode(), beats('UHUH'));
    expect(four.changes).toEqual([]);
    expect(feed(four.snapshot, beats('U')).changes).toEqual([['ready', 'degraded', 'unhealthy_heartbeats']]);
  });

  it('degrades on U, U, U at the third (§12 item 18)', () => {
    const two = feed(readyNode(), beats('UU'));
    expect(two.changes).toEqual([]);
    expect(feed(two.snapshot, beats('U')).changes).toEqual([['ready', 'degraded', 'unhealthy_heartbeats']]);
  });

  it('stays ready on U, U, H (§12 item 18)', () => {
    const { snapshot, changes } = feed(readyNode(), beats('UUH'));
    expect(changes).toEqual([]);
    expect(status(snapshot)).toBe('ready');
  });

  it('keeps only the last failure_window results: U, H, H, H, H, U, U stays ready', () => {
    const { snapshot } = feed(readyNode(), beats('UHHHHUU'));
    expect(status(snapshot)).toBe('ready');
  });

  it('recovers on the first healthy heartbeat, with a cleared window (§12 item 18)', () => {
    const degraded = feed(readyNode(), beats('UUU')).snapshot;
    const recovered = feed(degraded, beats('H'));
    expect(recovered.changes).toEqual([['degraded', 'ready', 'recovered']]);
    expect(recovered.snapshot.context).toMatchObject({ recentUnhealthyBits: 0, recentCount: 0, consecutiveUnhealthy: 0 });
    expect(status(feed(recovered.snapshot, beats('UU')).snapshot)).toBe('ready');
  });
});

describe('node status machine: offline, re-registration and drain', () => {
  it('goes offline when its connection closes, once', () => {
    const closed = feed(readyNode(), [{ type: 'node.connectionClosed' }, { type: 'node.connectionClosed' }]);
    expect(closed.changes).toEqual([['ready', 'offline', 'connection_closed']]);
  });

  it('goes offline on the scan 45 s after the last accepted heartbeat, before any warm-up rule', () => {
    const { snapshot } = feed(start().snapshot, beats('U', 10_000));
    expect(feed(snapshot, [{ type: 'node.scan', at: 54_999 }]).changes).toEqual([]);
    expect(feed(snapshot, [{ type: 'node.scan', at: 70_000 }]).changes).toEqual([['registering', 'offline', 'heartbeat_timeout']]);
  });

  it('ignores heartbeats and scans while offline', () => {
    const offline = feed(readyNode(), [{ type: 'node.connectionClosed' }]).snapshot;
    const after = feed(offline, [...beats('HHHH'), { type: 'node.scan', at: 10_000_000 }]);
    expect(after.changes).toEqual([]);
    expect(status(after.snapshot)).toBe('offline');
  });

  it('leaves offline only by re-registration, into registering with empty counters', () => {
    const offline = feed(feed(start().snapshot, beats('HH')).snapshot, [{ type: 'node.connectionClosed' }]).snapshot;
    const back = feed(offline, [{ type: 'node.reregistered', at: 5_000 }]);
    expect(back.changes).toEqual([['offline', 'registering', 'registered']]);
    expect(back.snapshot.context).toMatchObject({ consecutiveHealthy: 0, registeredAt: 5_000 });
    expect(status(feed(back.snapshot, beats('HH')).snapshot)).toBe('registering');
  });

  it('re-registration of a ready node starts over in registering', () => {
    const again = feed(readyNode(), [{ type: 'node.reregistered', at: 9_000 }]);
    expect(again.changes).toEqual([['ready', 'registering', 'registered']]);
  });

  it('drains from registering, ready or degraded, ignores health while draining, and leaves by the last heartbeat', () => {
    for (const from of [start().snapshot, readyNode(), feed(readyNode(), beats('UUU')).snapshot]) {
      const drained = feed(from, [{ type: 'node.drainRequested' }]);
      expect(drained.changes).toEqual([[status(from)!, 'draining', 'drain_requested']]);
    }
    const draining = feed(readyNode(), [{ type: 'node.drainRequested' }, ...beats('UUUUU')]);
    expect(status(draining.snapshot)).toBe('draining');
    expect(feed(draining.snapshot, [{ type: 'node.drainCancelled' }]).changes).toEqual([['draining', 'degraded', 'drain_cancelled']]);
    const healthy = feed(draining.snapshot, [...beats('H'), { type: 'node.drainCancelled' }]);
    expect(healthy.changes).toEqual([['draining', 'ready', 'drain_cancelled']]);
  });

  it('does not drain an offline node', () => {
    const offline = feed(readyNode(), [{ type: 'node.connectionClosed' }]).snapshot;
    expect(feed(offline, [{ type: 'node.drainRequested' }]).changes).toEqual([]);
  });

  it('sets the liveness timer at registration, due 45 s later, and only records the time of a heartbeat', () => {
    const [, initial] = initialTransition(nodeStatusMachine, { nodeId: 'node-1', registeredAt: 1_000, options: OPTIONS });
    expect(initial.find((a) => a.type === 'xstate.raise' && (a.params as { event: { type: string } }).event.type === 'node.livenessCheck')?.params).toMatchObject({
      event: { type: 'node.livenessCheck', dueAt: 46_000 },
      delay: 45_000,
    });
    const [next, actions] = transition(nodeStatusMachine, start().snapshot, { type: 'node.heartbeat', healthy: true, at: 30_000 });
    expect(actions).toEqual([]);
    expect(next.context.lastHeartbeatAt).toBe(30_000);
  });

  it('when the liveness timer fires after a later heartbeat, sets it again for exactly the time left', () => {
    const { snapshot } = feed(start().snapshot, beats('H', 30_000));
    const [again, actions] = transition(nodeStatusMachine, snapshot, { type: 'node.livenessCheck', dueAt: 45_000 });
    expect(status(again)).toBe('registering');
    expect(actions.find((a) => a.type === 'xstate.raise')?.params).toMatchObject({ event: { type: 'node.livenessCheck', dueAt: 75_000 }, delay: 30_000 });
    expect(feed(again, [{ type: 'node.livenessCheck', dueAt: 75_000 }]).changes).toEqual([['registering', 'offline', 'heartbeat_timeout']]);
  });

  it('stops gracefully on supervisor.shutdown', () => {
    const { snapshot } = feed(readyNode(), [{ type: 'supervisor.shutdown' }]);
    expect(snapshot.status).toBe('done');
  });
});
