import { describe, expect, it } from 'vitest';
import { serviceEnvironment } from '../../../src/actors/node/service.actor.js';
import { DEFAULT_SERVICES_OPTIONS, policyFor, resolveServicesOptions } from '../../../src/actors/node/services.options.js';
import { parseServiceJson } from '../../../src/protocol/service-json.schema.js';
import type { ServiceManifest } from '../../../src/protocol/service-json.schema.js';

function manifest(doc: Record<string, unknown>): ServiceManifest {
  const parsed = parseServiceJson({ id: 'tts-es', name: 'x', type: 'tts', exec: { command: 'node', args: ['server.js'] }, ...doc });
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

describe('services options', () => {
  it('defaults: probe every 10 s (§9.1: at most 30 s), 3 failed probes, 5 s stop timeout', () => {
    const options = resolveServicesOptions({ dataDir: '/data' });
    expect(options).toMatchObject({ ...DEFAULT_SERVICES_OPTIONS, dataDir: '/data' });
  });

  it('rejects bad values at construction with INVALID_CONFIG', () => {
    expect(() => resolveServicesOptions({ dataDir: '/data', probeIntervalMs: 31_000 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveServicesOptions({ dataDir: '/data', portOverrides: { a: 70_000 } })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveServicesOptions({ dataDir: '' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });

  it('policy: service.json timings, then the node defaults, then the per-service overrides', () => {
    const options = resolveServicesOptions({ dataDir: '/d', maxRestarts: 7, perService: { 'tts-es': { stopTimeoutMs: 100, startupTimeoutMs: 9 } } });
    const policy = policyFor(manifest({ startup_timeout_ms: 30_000, health_check: { interval_ms: 0, timeout_ms: 500 } }), options);
    expect(policy).toEqual({
      startupTimeoutMs: 9,
      healthIntervalMs: 5,
      healthTimeoutMs: 500,
      probeIntervalMs: 10_000,
      probeFailureLimit: 3,
      stopTimeoutMs: 100,
      maxRestarts: 7,
      withinMs: 300_000,
      minBackoffMs: 1_000,
      maxBackoffMs: 30_000,
    });
  });
});

describe('service environment (PROTOCOL.md §9.8)', () => {
  it('adds PORT, SERVICE_PORT, HOST, SERVICE_ID, SERVICE_VERSION and MODELS_DIR, then the service.json env', () => {
    const env = serviceEnvironment({ manifest: manifest({ version: '1.2.0', env: { LOG_LEVEL: 'info', DEBUG: true } }), dir: '/srv/tts-es/1.2.0' }, 5009);
    expect(env).toEqual({ PORT: '5009', SERVICE_PORT: '5009', HOST: '127.0.0.1', SERVICE_ID: 'tts-es', SERVICE_VERSION: '1.2.0', MODELS_DIR: '/srv/tts-es/1.2.0/models', LOG_LEVEL: 'info', DEBUG: 'true' });
  });

  it('takes the version from the install layout when service.json has none, and leaves it out when unknown', () => {
    expect(serviceEnvironment({ manifest: manifest({}), dir: '/srv/a/2.0.0', version: '2.0.0' }, 1).SERVICE_VERSION).toBe('2.0.0');
    expect(serviceEnvironment({ manifest: manifest({}), dir: '/srv/a' }, 1)).not.toHaveProperty('SERVICE_VERSION');
  });
});
