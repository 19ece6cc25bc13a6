/**
 * The node's Prometheus metrics, in a registry of its own (several roles may share a process):
 * heartbeats sent per trigger, reconnects, and the link's current state. Fed from the bus.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Bus } from '../../kernel/bus.js';
import type { LinkStateName } from '../../machines/link.machine.js';

const LINK_STATES: readonly LinkStateName[] = ['connecting', 'registering', 'registered', 'reconnecting', 'rejected', 'stopped'];

export interface NodeMetrics {
  registry: Registry;
  /** The exposition text and its content type. */
  render(): Promise<{ text: string; contentType: string }>;
  dispose(): void;
}

export function createNodeMetrics(bus: Bus): NodeMetrics {
  const registry = new Registry();
  const heartbeats = new Counter({ name: 'linguamesh_node_heartbeats_sent_total', help: 'Heartbeats sent to the scheduler, by trigger.', labelNames: ['trigger'], registers: [registry] });
  const reconnects = new Counter({ name: 'linguamesh_node_link_reconnects_total', help: 'Reconnects scheduled after a connection ended or failed.', registers: [registry] });
  const rejections = new Counter({ name: 'linguamesh_node_link_rejections_total', help: 'Registration rejections received, by code.', labelNames: ['code'], registers: [registry] });
  const linkState = new Gauge({ name: 'linguamesh_node_link_state', help: 'Link state: 1 for the current state, 0 for the others.', labelNames: ['state'], registers: [registry] });
  for (const trigger of ['ack', 'periodic', 'debounced']) heartbeats.inc({ trigger }, 0);
  const setState = (state: string) => {
    for (const s of LINK_STATES) linkState.set({ state: s }, s === state ? 1 : 0);
  };
  setState('connecting');

  const subscriptions = [
    bus.subscribe('heartbeat.sent', (event) => heartbeats.inc({ trigger: event.trigger })),
    bus.subscribe('link.reconnectScheduled', () => reconnects.inc()),
    bus.subscribe('link.rejected', (event) => rejections.inc({ code: event.code })),
    bus.subscribe('link.stateChanged', (event) => setState(event.state)),
  ];

  return {
    registry,
    render: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
    dispose: () => subscriptions.forEach((u) => u()),
  };
}
