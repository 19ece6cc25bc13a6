import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBus } from '../../../src/kernel/bus.js';
import type { BusEvent } from '../../../src/kernel/bus.js';
import { createLogger } from '../../../src/kernel/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger({ format: 'json', destination, level: 'debug' }) };
}

const started: BusEvent = { type: 'service.statusChanged', serviceId: 'asr-en', serviceType: 'asr', state: 'running', wireStatus: 'running' };

describe('bus', () => {
  it('delivers an event to the subscribers of its type only, typed by the type', () => {
    const bus = createBus();
    const got: string[] = [];
    bus.subscribe('service.statusChanged', (e) => got.push(`${e.serviceId}:${e.state}`));
    bus.subscribe('link.registered', (e) => got.push(`link:${e.nodeId}`));
    bus.publish(started);
    expect(got).toEqual(['asr-en:running']);
  });

  it('isolates a throwing subscriber: the publisher and the other subscribers never see the error, and it is logged', () => {
    const { lines, logger } = capture();
    const bus = createBus({ logger });
    const got: string[] = [];
    bus.subscribe('service.statusChanged', () => {
      throw new Error('subscriber bug');
    });
    bus.subscribe('service.statusChanged', (e) => got.push(e.serviceId));
    expect(() => bus.publish(started)).not.toThrow();
    expect(got).toEqual(['asr-en']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, eventType: 'service.statusChanged', msg: 'bus subscriber threw; isolated from the publisher' });
  });

  it('unsubscribe stops delivery and releases the handler', () => {
    const bus = createBus();
    const got: BusEvent[] = [];
    const off = bus.subscribe('service.statusChanged', (e) => got.push(e));
    const offAll = bus.subscribeAll((e) => got.push(e));
    bus.publish(started);
    off();
    offAll();
    bus.publish(started);
    expect(got).toHaveLength(2);
    expect(bus.listenerCount()).toBe(0);
  });
});

describe('logger redaction', () => {
  it('removes pii and tokens from every line', () => {
    const { lines, logger } = capture();
    logger.child({ actor: 'job:1' }).info({ pii: { text: 'where is the station' }, token: 's3cret', jobId: 'job-1' }, 'job finished');
    expect(lines[0]).toMatchObject({ actor: 'job:1', jobId: 'job-1', msg: 'job finished' });
    expect(JSON.stringify(lines[0])).not.toContain('station');
    expect(JSON.stringify(lines[0])).not.toContain('s3cret');
  });
});
