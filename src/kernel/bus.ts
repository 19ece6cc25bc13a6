/**
 * The typed in-process bus: publish/subscribe over eventemitter3 with one event union
 * (`BusEvent`). A subscriber that throws is isolated: the error is logged and neither the publisher
 * nor the other subscribers see it (ARCHITECTURE.md, "Bus").
 */
import { EventEmitter } from 'eventemitter3';
import type { BusEvent, BusEventOf, BusEventType } from './bus-events.js';
import type { Logger } from './logger.js';

export type { BusEvent, BusEventOf, BusEventType } from './bus-events.js';

export type BusHandler<K extends BusEventType> = (event: BusEventOf<K>) => void;

export interface Bus {
  publish(event: BusEvent): void;
  /** Subscribes to one event type; returns the unsubscribe function. */
  subscribe<K extends BusEventType>(type: K, handler: BusHandler<K>): () => void;
  /** Subscribes to every event (inspection, recording, metrics); returns the unsubscribe function. */
  subscribeAll(handler: (event: BusEvent) => void): () => void;
  /** Number of handlers attached, all types together. */
  listenerCount(): number;
}

const ANY = Symbol('any');

export function createBus(options: { logger?: Logger } = {}): Bus {
  const emitter = new EventEmitter();
  const log = options.logger;

  const isolate = <E>(type: string, handler: (event: E) => void) =>
    (event: E) => {
      try {
        handler(event);
      } catch (err) {
        log?.error({ err, eventType: type }, 'bus subscriber threw; isolated from the publisher');
      }
    };

  return {
    publish(event) {
      emitter.emit(event.type, event);
      if (emitter.listenerCount(ANY) > 0) emitter.emit(ANY, event);
    },
    subscribe(type, handler) {
      const wrapped = isolate(type, handler);
      emitter.on(type, wrapped);
      return () => {
        emitter.off(type, wrapped);
      };
    },
    subscribeAll(handler) {
      const wrapped = isolate('*', handler);
      emitter.on(ANY, wrapped);
      return () => {
        emitter.off(ANY, wrapped);
      };
    },
    listenerCount() {
      return emitter.eventNames().reduce((n, name) => n + emitter.listenerCount(name), 0);
    },
  };
}
