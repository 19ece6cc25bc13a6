/**
 * The `dispatcher` child (system id `dispatcher`): while it runs, the dispatcher follows the fleet
 * on the bus (pool and status changes, node loss). Its jobs and timers live in the `Dispatcher`
 * object, so a restart of this child loses none of them.
 */
import { fromCallback } from 'xstate';
import type { ChildSpecInput } from '../../kernel/supervisor.js';
import { SYSTEM_IDS } from '../../kernel/system.js';
import type { Dispatcher } from './dispatcher.js';

export function dispatcherChildSpec(dispatcher: Dispatcher): ChildSpecInput {
  return {
    id: SYSTEM_IDS.dispatcher,
    systemId: SYSTEM_IDS.dispatcher,
    logic: fromCallback(() => dispatcher.activate()),
    restart: 'permanent',
    // Nothing to finish: the dispatcher's own close() runs after the tree has stopped.
    shutdownMs: 0,
  };
}
