/**
 * The last step of `startAll`: waiting until the scheduler holds the node as `ready` (PROTOCOL.md
 * §4: `health_check_count` healthy heartbeats in a row). Nothing is assumed: the wait follows the
 * scheduler's own `node.statusChanged` events, and fails after `timeoutMs` with what the scheduler
 * and the node say (status, reason, link state, last rejection, services).
 */
import type { Clock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { NodeRoleHandle } from './node-role.js';
import type { SchedulerHandle } from './start-scheduler.js';

export interface NodeReadyWait {
  scheduler: SchedulerHandle;
  node: NodeRoleHandle;
  clock: Clock;
  timeoutMs: number;
  signal: AbortSignal;
  /** Each status the scheduler gives the node on the way. */
  onChange: (status: string, reason: string) => void;
}

/** Why the node is not ready, in one sentence. */
function diagnosis(scheduler: SchedulerHandle, node: NodeRoleHandle): string {
  const report = node.status();
  const nodeId = report.link.nodeId;
  const view = nodeId === undefined ? undefined : scheduler.registry.node(nodeId);
  const parts = [view ? `scheduler: ${view.status} (${view.reason})` : 'the scheduler does not hold the node', `link: ${report.link.state}`];
  if (report.link.lastRejection) parts.push(`rejected: ${report.link.lastRejection.code} ${report.link.lastRejection.message}`);
  parts.push(`services: ${report.services.map((s) => `${s.id} ${s.state}${s.lastError ? ` (${s.lastError})` : ''}`).join(', ') || 'none'}`);
  return parts.join('; ');
}

export function waitForNodeReady(wait: NodeReadyWait): Promise<void> {
  const { scheduler, node, clock, timeoutMs, signal, onChange } = wait;
  // One node on this scheduler: before the node knows its id, any node is it.
  const ours = (nodeId: string) => {
    const id = node.status().link.nodeId;
    return id === undefined || id === nodeId;
  };
  const isReady = () => {
    const id = node.status().link.nodeId;
    return id !== undefined && scheduler.registry.node(id)?.status === 'ready';
  };
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: Error) => {
      off();
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const off = scheduler.bus.subscribe('node.statusChanged', (event) => {
      if (!ours(event.nodeId)) return;
      onChange(event.to, event.reason);
      if (event.to === 'ready') finish();
    });
    const timer = clock.setTimeout(() => {
      finish(new KernelError('NODE_NOT_READY', `the node was not ready in the scheduler within ${timeoutMs} ms: ${diagnosis(scheduler, node)}`));
    }, timeoutMs);
    const onAbort = () => finish(new AbortedError('stopped while waiting for the node to be ready'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    if (isReady()) return finish();
    const id = node.status().link.nodeId;
    const view = id === undefined ? undefined : scheduler.registry.node(id);
    if (view) onChange(view.status, view.reason);
  });
}
