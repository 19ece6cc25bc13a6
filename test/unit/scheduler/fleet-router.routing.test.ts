/**
 * FleetRouter (issue "Scheduler scale-out"): job messages between instances. A `job_assign` for a
 * node held elsewhere goes to its owner's inbox; the owner hands it to the node or answers
 * `undeliverable`; the node's answers go back to the session's instance, found from the
 * assignment or, for a node that moved here, from the session's home in the store.
 */
import { describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../../src/actors/scheduler/dispatcher.js';
import { FleetRouter } from '../../../src/actors/scheduler/fleet-router.js';
import type { FleetView } from '../../../src/actors/scheduler/fleet-view.js';
import type { NodeRegistry } from '../../../src/actors/scheduler/node-registry.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { FleetEnvelope, FleetNodeMessage, FleetPort } from '../../../src/kernel/ports/fleet.port.js';
import type { JobAssign } from '../../../src/protocol/index.js';

const ASSIGN = { type: 'job_assign', job_id: 'job-1', attempt_id: 2, session_id: 's-1' } as unknown as JobAssign;
const RESULT = { type: 'job_result', job_id: 'job-1', attempt_id: 2, node_id: 'node-R', session_id: 's-1', success: true } as unknown as FleetNodeMessage;

function setup(options: { localNodes?: string[]; sendOk?: boolean; home?: string } = {}) {
  const sent: Array<[string, FleetEnvelope]> = [];
  const toNode: Array<[string, unknown]> = [];
  const handed: Array<[string, string, unknown]> = [];
  const local = new Set(options.localNodes ?? []);
  const registry = {
    node: (id: string) => (local.has(id) ? { nodeId: id, connected: true } : undefined),
    sendToNode: (id: string, message: unknown) => {
      toNode.push([id, message]);
      return (options.sendOk ?? true) && local.has(id);
    },
    eligibleNodes: () => [...local],
  } as unknown as NodeRegistry;
  const view = {
    node: (id: string) => (id === 'node-R' ? { nodeId: id, owner: 'sched-C', maxConcurrentJobs: 4, status: 'ready', pools: { speech: [], text: [] } } : undefined),
    eligible: () => ['node-R'],
  } as unknown as FleetView;
  const fleet = {
    instanceId: 'sched-A',
    send: async (to: string, envelope: FleetEnvelope) => {
      sent.push([to, envelope]);
    },
    sessionHome: async () => options.home,
  } as unknown as FleetPort;
  const dispatcher = {
    knowsJob: () => false,
    hasSession: () => false,
    onNodeMessage: (nodeId: string, message: FleetNodeMessage) => handed.push(['message', nodeId, message]),
    attemptUndeliverable: (jobId: string, attemptId: number, nodeId: string) => handed.push(['undeliverable', nodeId, [jobId, attemptId]]),
  } as unknown as Dispatcher;
  const router = new FleetRouter({ registry, view, fleet, logger: silentLogger(), signal: new AbortController().signal });
  router.setDispatcher(dispatcher);
  return { router, sent, toNode, handed };
}

describe('FleetRouter', () => {
  it('offers local then remote candidates and sends a remote job_assign to the owner instance', () => {
    const { router, sent } = setup({ localNodes: ['node-L'] });
    expect(router.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: { use_nmt: true, use_tts: true } })).toEqual(['node-L', 'node-R']);
    expect(router.node('node-R')).toMatchObject({ connected: true, maxConcurrentJobs: 4 });
    expect(router.sendToNode('node-R', ASSIGN)).toBe(true);
    expect(sent).toEqual([['sched-C', { kind: 'to_node', from: 'sched-A', nodeId: 'node-R', sessionId: 's-1', message: ASSIGN }]]);
  });

  it('hands a to_node envelope to a node held here, and routes the node\'s answers back to its origin', async () => {
    const { router, sent, toNode } = setup({ localNodes: ['node-R'] });
    await router.onEnvelope({ kind: 'to_node', from: 'sched-B', nodeId: 'node-R', sessionId: 's-1', message: ASSIGN });
    expect(toNode).toEqual([['node-R', ASSIGN]]);
    router.onLocalNodeMessage('node-R', RESULT);
    expect(sent).toEqual([['sched-B', { kind: 'from_node', from: 'sched-A', nodeId: 'node-R', message: RESULT }]]);
  });

  it('answers undeliverable for a node not held here, which the session\'s dispatcher reassigns', async () => {
    const owner = setup();
    await owner.router.onEnvelope({ kind: 'to_node', from: 'sched-B', nodeId: 'node-X', sessionId: 's-1', message: ASSIGN });
    expect(owner.sent).toEqual([['sched-B', { kind: 'undeliverable', from: 'sched-A', nodeId: 'node-X', jobId: 'job-1', attemptId: 2 }]]);
    const session = setup();
    await session.router.onEnvelope(owner.sent[0]![1]);
    expect(session.handed).toEqual([['undeliverable', 'node-X', ['job-1', 2]]]);
  });

  it('finds the home of a session it never saw (a node that moved here) in the store', async () => {
    const { router, sent } = setup({ localNodes: ['node-R'], home: 'sched-B' });
    router.onLocalNodeMessage('node-R', RESULT);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([['sched-B', { kind: 'from_node', from: 'sched-A', nodeId: 'node-R', message: RESULT }]]);
  });
});
