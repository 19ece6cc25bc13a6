/**
 * A node with several scheduler URLs (issue 10, point 2): each attempt goes to the next URL when a
 * connect fails or a link is lost; moves inside a round go at once (spread by the jitter); a whole
 * failed round backs off as §3.1 step 6; after an ack the node stays on the URL that works.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition } from 'xstate';
import { DEFAULT_LINK_OPTIONS } from '../../../src/machines/link.defaults.js';
import { linkMachine, nextAttempt } from '../../../src/machines/link.machine.js';
import { ack, startLinkHarness } from '../../support/link-harness.js';

const A = 'ws://a:5010/ws/node';
const B = 'ws://b:5010/ws/node';
const C = 'ws://c:5010/ws/node';

const urlsTried = (h: Awaited<ReturnType<typeof startLinkHarness>>) => h.port.connections.map((c) => c.target.url);

describe('link: failover over several scheduler URLs', () => {
  it('a failed connect moves to the next URL at once; a whole failed round waits the backoff, n counting rounds', async () => {
    const h = await startLinkHarness({ schedulerUrls: [A, B, C], random: () => 0 });
    expect(urlsTried(h)).toEqual([A]);
    for (const [round, backoffMs] of [
      [0, 5_000],
      [1, 10_000],
      [2, 20_000],
    ] as const) {
      h.port.last.fail(1006);
      await h.clock.advanceAsync(0);
      expect(h.of('link.reconnectScheduled').at(-1)).toEqual({ type: 'link.reconnectScheduled', attempt: round, delayMs: 0, schedulerUrl: B, failover: true });
      h.port.last.fail(1006);
      await h.clock.advanceAsync(0);
      expect(urlsTried(h).slice(-2)).toEqual([B, C]);
      const before = h.port.connections.length;
      h.port.last.fail(1006);
      await h.clock.advanceAsync(0);
      // The round A, B, C failed: back to A after the §3.1 wait of the round-th failure.
      expect(h.of('link.reconnectScheduled').at(-1)).toEqual({ type: 'link.reconnectScheduled', attempt: round + 1, delayMs: backoffMs, schedulerUrl: A, failover: false });
      await h.clock.advanceAsync(backoffMs - 1);
      expect(h.port.connections).toHaveLength(before);
      await h.clock.advanceAsync(1);
      expect(h.port.connections).toHaveLength(before + 1);
      expect(h.port.last.target.url).toBe(A);
    }
    expect(h.errors).toEqual([]);
  });

  it('stays on the URL that registered; a lost link goes to the next one at once, re-sending the node_id', async () => {
    const h = await startLinkHarness({ schedulerUrls: [A, B, C], random: () => 0 });
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    await h.register('node-0000000B');
    expect(h.port.last.target.url).toBe(B);
    expect(h.of('link.registered').at(-1)).toMatchObject({ nodeId: 'node-0000000B', schedulerUrl: B });
    expect(h.of('link.stateChanged').at(-1)).toMatchObject({ state: 'registered', schedulerUrl: B });

    // The scheduler on B goes away: C at once, with the id B assigned.
    h.port.last.fail(1001, 'going away');
    await h.clock.advanceAsync(0);
    expect(urlsTried(h)).toEqual([A, B, C]);
    await h.open();
    expect(h.port.last.sent).toEqual([expect.objectContaining({ type: 'node_register', node_id: 'node-0000000B' })]);
    h.port.last.deliver(ack('node-0000000B'));
    await h.clock.advanceAsync(0);
    expect(h.of('link.registered').at(-1)).toMatchObject({ schedulerUrl: C });

    // Lost again: A at once; A and B refuse the connect; the round (C, A, B) is over: 5 s, then C.
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    expect(urlsTried(h)).toEqual([A, B, C, A, B]);
    expect(h.of('link.reconnectScheduled').at(-1)).toMatchObject({ delayMs: 5_000, schedulerUrl: C, failover: false });
    await h.clock.advanceAsync(5_000);
    expect(urlsTried(h)).toEqual([A, B, C, A, B, C]);
  });

  it('a dead link (no frame for link_dead_ms) and a retryable rejection move to the next URL too', async () => {
    const h = await startLinkHarness({ schedulerUrls: [A, B], random: () => 0 });
    await h.register();
    await h.clock.advanceAsync(DEFAULT_LINK_OPTIONS.linkDeadMs);
    expect(h.port.connections[0]!.closedBy).toBe('node-terminate');
    expect(urlsTried(h)).toEqual([A, B]);
    await h.open();
    h.port.last.deliver({ type: 'node_error', code: 'NODE_ID_CONFLICT', message: 'held' });
    await h.clock.advanceAsync(0);
    // B refused within the round started by the dead link on A: the round is over, A after 5 s.
    expect(h.of('link.reconnectScheduled').at(-1)).toMatchObject({ delayMs: 5_000, schedulerUrl: A });
    await h.clock.advanceAsync(5_000);
    expect(urlsTried(h)).toEqual([A, B, A]);
  });

  it('the move inside a round waits random·reconnectJitter·reconnectMinMs: at most 1 s by default', async () => {
    const h = await startLinkHarness({ schedulerUrls: [A, B], random: () => 0.5 });
    h.port.last.fail(1006);
    await h.clock.advanceAsync(0);
    expect(h.of('link.reconnectScheduled').at(-1)).toMatchObject({ delayMs: 500, schedulerUrl: B, failover: true });
    await h.clock.advanceAsync(499);
    expect(urlsTried(h)).toEqual([A]);
    await h.clock.advanceAsync(1);
    expect(urlsTried(h)).toEqual([A, B]);
  });

  it('a final rejection keeps the URL: an operator retry goes to the same scheduler', async () => {
    const h = await startLinkHarness({ schedulerUrls: [A, B] });
    await h.open();
    h.port.last.deliver({ type: 'node_error', code: 'NO_GPU_AVAILABLE', message: 'no GPU' });
    await h.clock.advanceAsync(10 * 60_000);
    expect(h.state()).toBe('rejected');
    expect(urlsTried(h)).toEqual([A]);
    h.bus.publish({ type: 'link.retryRequested', source: 'test' });
    await h.clock.advanceAsync(0);
    expect(urlsTried(h)).toEqual([A, A]);
  });

  it('with one URL every failure is a whole round: §3.1 unchanged', () => {
    const [snapshot] = initialTransition(linkMachine, { options: DEFAULT_LINK_OPTIONS, schedulerUrls: [A], random: () => 0 });
    const first = nextAttempt(snapshot.context);
    expect(first).toEqual({ urlIndex: 0, roundFailures: 0, failures: 1, retryDelayMs: 5_000 });
    expect(nextAttempt({ ...snapshot.context, ...first })).toEqual({ urlIndex: 0, roundFailures: 0, failures: 2, retryDelayMs: 10_000 });
  });
});
