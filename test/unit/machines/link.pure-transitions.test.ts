import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LINK_OPTIONS } from '../../../src/machines/link.defaults.js';
import { linkMachine, linkStateOf } from '../../../src/machines/link.machine.js';
import type { LinkEvent } from '../../../src/machines/link.machine.js';

const URL_A = 'ws://a:5010/ws/node';
const input = { options: DEFAULT_LINK_OPTIONS, schedulerUrls: [URL_A], random: () => 0 };

function registering(nodeId?: string) {
  const [loading] = initialTransition(linkMachine, input);
  // The persisted id arrives as the `loadNodeId` actor's output.
  const [connecting] = transition(linkMachine, loading, { type: 'xstate.done.actor.0.link.loading', output: nodeId } as unknown as LinkEvent);
  return transition(linkMachine, connecting, { type: 'link.opened' })[0];
}

const ack = { type: 'link.message', message: { type: 'node_register_ack', node_id: 'node-3F2A9C1B', message: 'ok', status: 'registering', heartbeat_interval_ms: 10_000 } } as const satisfies LinkEvent;

describe('link machine: pure transitions', () => {
  it('starts by loading the persisted id, then connects with a socket, a liveness deadline and a ping timer', () => {
    const [loading, actions] = initialTransition(linkMachine, input);
    expect(loading.value).toBe('loading');
    expect(actions).toContainEqual(expect.objectContaining({ type: 'xstate.emit', params: { event: { type: 'link.stateChanged', state: 'connecting', schedulerUrl: URL_A } } }));
    const [connecting, connectActions] = transition(linkMachine, loading, { type: 'xstate.done.actor.0.link.loading', output: 'node-00000001' } as unknown as LinkEvent);
    expect(connecting.value).toEqual({ connection: { session: 'connecting', liveness: 'watching', keepalive: 'waiting' } });
    expect(connecting.context.nodeId).toBe('node-00000001');
    const delays = connectActions.filter((a) => a.type === 'xstate.raise').map((a) => (a.params as { delay: number }).delay);
    expect(delays.sort((a, b) => a - b)).toEqual([15_000, 30_000]);
  });

  it('the ack registers, resets the failure counter and keeps the scheduler interval', () => {
    const before = registering();
    const withFailures = { ...before, context: { ...before.context, failures: 4 } } as typeof before;
    const [registered, actions] = transition(linkMachine, withFailures, ack);
    expect(linkStateOf(registered)).toBe('registered');
    expect(registered.value).toMatchObject({ connection: { session: { registered: 'registering' } } });
    expect(registered.context).toMatchObject({ nodeId: 'node-3F2A9C1B', failures: 0, heartbeatIntervalMs: 10_000, schedulerStatus: 'registering' });
    expect(actions).toContainEqual(expect.objectContaining({ type: 'xstate.emit', params: expect.objectContaining({ event: { type: 'link.registered', nodeId: 'node-3F2A9C1B', heartbeatIntervalMs: 10_000, schedulerUrl: URL_A } }) }));
  });

  it('a close waits d = min(60 000, 5 000·2ⁿ) and counts the failure', () => {
    const [afterOne] = transition(linkMachine, registering(), { type: 'link.closed', code: 1006, reason: '' });
    expect(afterOne.value).toBe('reconnecting');
    expect(afterOne.context).toMatchObject({ failures: 1, retryDelayMs: 5_000, lastDisconnect: { cause: 'closed', code: 1006, reason: '' } });
    const fourth = { ...afterOne, context: { ...afterOne.context, failures: 4 } } as typeof afterOne;
    const [connecting] = transition(linkMachine, fourth, { type: 'xstate.after.retryDelay.link.reconnecting' } as unknown as LinkEvent);
    const [again] = transition(linkMachine, transition(linkMachine, connecting, { type: 'link.opened' })[0], { type: 'link.closed', code: 1006, reason: '' });
    expect(again.context).toMatchObject({ failures: 5, retryDelayMs: 60_000 });
  });

  it('NO_GPU_AVAILABLE rejects for good; NODE_ID_CONFLICT reconnects; both keep the rejection', () => {
    const [rejected] = transition(linkMachine, registering(), { type: 'link.message', message: { type: 'node_error', code: 'NO_GPU_AVAILABLE', message: 'no GPU' } });
    expect(rejected.value).toBe('rejected');
    expect(rejected.context.lastRejection).toEqual({ code: 'NO_GPU_AVAILABLE', message: 'no GPU', retrying: false });
    const [waiting] = transition(linkMachine, rejected, { type: 'xstate.after.retryDelay.link.reconnecting' } as unknown as LinkEvent);
    expect(waiting.value).toBe('rejected');
    expect(transition(linkMachine, rejected, { type: 'link.retry' })[0].value).toMatchObject({ connection: { session: 'connecting' } });

    const [conflict] = transition(linkMachine, registering('node-ABCDEF12'), { type: 'link.message', message: { type: 'error', code: 'NODE_ID_CONFLICT', message: 'held' } });
    expect(conflict.value).toBe('reconnecting');
    expect(conflict.context).toMatchObject({ nodeId: 'node-ABCDEF12', lastRejection: { code: 'NODE_ID_CONFLICT', retrying: true } });
  });

  it('link.send before the ack is dropped with an event, never handed to the socket', () => {
    const message = { type: 'job_ack', job_id: 'j', attempt_id: 1, node_id: 'n', session_id: 's', trace_id: 't' } as const;
    const [, actions] = transition(linkMachine, registering(), { type: 'link.send', message });
    expect(actions.map((a) => a.type)).toEqual(['xstate.emit']);
    expect(actions[0]!.params).toEqual({ event: { type: 'link.sendDropped', messageType: 'job_ack', reason: 'not_registered' } });
    const [registered] = transition(linkMachine, registering(), ack);
    const [, sendActions] = transition(linkMachine, registered, { type: 'link.send', message });
    expect(sendActions).toEqual([expect.objectContaining({ type: 'xstate.sendTo', params: expect.objectContaining({ event: { type: 'socket.send', message } }) })]);
  });
});
