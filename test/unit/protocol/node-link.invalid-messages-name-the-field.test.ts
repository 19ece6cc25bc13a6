/**
 * PROTOCOL.md §1.3–§1.5: invalid node-link frames are rejected with an error that names the field,
 * and carry the received `type` for `node_error.details.type`.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  parseNodeToScheduler,
  parseSchedulerToNode,
  encodeFrame,
  nodeStatusTimestampMs,
  type MessageValidationError,
  type NodeHeartbeat,
  type NodeRegister,
  type ParseResult,
} from '../../../src/protocol/index.js';

function register(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'node_register',
    version: '0.1.0',
    capability_schema_version: '2.0',
    platform: 'linux',
    hardware: { cpu_cores: 16, memory_gb: 64, gpus: [{ name: 'NVIDIA RTX 4070', memory_gb: 12 }] },
    installed_models: [],
    installed_services: [{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }],
    capability_by_type: [{ type: 'asr', ready: true, ready_impl_ids: ['asr-en'] }],
    features_supported: {},
    accept_public_jobs: true,
    ...overrides,
  };
}

function failure<T>(result: ParseResult<T>): MessageValidationError {
  if (result.ok) throw new Error(`expected a validation failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

const paths = (error: MessageValidationError): string[] => error.issues.map((i) => i.path);

describe('node link: rejections name the field', () => {
  it('accepts a valid node_register and types it', () => {
    const result = parseNodeToScheduler(JSON.stringify(register({ node_id: null })));
    if (!result.ok) throw result.error;
    expect(result.value.type).toBe('node_register');
    const value = result.value as NodeRegister;
    expect(value.node_id).toBeUndefined();
    expect(value.hardware.gpus).toHaveLength(1);
  });

  it('rejects a missing required field', () => {
    const { hardware: _omitted, ...withoutHardware } = register();
    const error = failure(parseNodeToScheduler(JSON.stringify(withoutHardware)));
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(paths(error)).toEqual(['hardware']);
    expect(error.details.type).toBe('node_register');
    expect(error.reason).toContain('hardware');
  });

  it('rejects a fractional int: hardware.cpu_cores 15.5 (§12 item 4)', () => {
    const error = failure(parseNodeToScheduler(JSON.stringify(register({ hardware: { cpu_cores: 15.5, memory_gb: 64, gpus: [] } }))));
    expect(paths(error)).toEqual(['hardware.cpu_cores']);
  });

  it('rejects a negative int', () => {
    const error = failure(parseNodeToScheduler(JSON.stringify(register({ max_concurrent_jobs: -1 }))));
    expect(new Set(paths(error))).toEqual(new Set(['max_concurrent_jobs']));
  });

  it('rejects a string where a number is required, without coercion', () => {
    const error = failure(parseNodeToScheduler(JSON.stringify(register({ hardware: { cpu_cores: '16', memory_gb: 64 } }))));
    expect(paths(error)).toEqual(['hardware.cpu_cores']);
  });

  it('rejects an unknown type, naming `type`', () => {
    const error = failure(parseNodeToScheduler('{"type":"bogus"}'));
    expect(paths(error)).toEqual(['type']);
    expect(error.details.type).toBe('bogus');
    expect(error.message).toContain('bogus');
  });

  it('shortens a very long unknown type in the error', () => {
    const error = failure(parseNodeToScheduler(JSON.stringify({ type: 'x'.repeat(10_000) })));
    expect(error.message.length).toBeLessThan(200);
    expect(String(error.details.type)).toHaveLength(65);
  });

  it('rejects a type of the other direction as unknown', () => {
    const error = failure(parseNodeToScheduler('{"type":"job_assign"}'));
    expect(paths(error)).toEqual(['type']);
  });

  it('rejects a missing or non-string type', () => {
    expect(paths(failure(parseNodeToScheduler('{"node_id":"node-1"}')))).toEqual(['type']);
    expect(paths(failure(parseNodeToScheduler('{"type":7}')))).toEqual(['type']);
  });

  it('rejects an unknown value of a top-level closed enum: node_status status "sleeping"', () => {
    const error = failure(parseSchedulerToNode(JSON.stringify({ type: 'node_status', node_id: 'node-3F2A9C1B', status: 'sleeping', reason: 'x', timestamp: 1767225630000 })));
    expect(paths(error)).toEqual(['status']);
  });

  it('rejects a frame over max_frame_bytes unparsed, naming its size', () => {
    const frame = JSON.stringify(register({ padding: 'x'.repeat(DEFAULT_MAX_FRAME_BYTES) }));
    const error = failure(parseNodeToScheduler(frame));
    const size = Buffer.byteLength(frame);
    expect(error.message).toContain(String(size));
    expect(error.details.frameBytes).toBe(size);
    expect(failure(parseNodeToScheduler(Buffer.from('{"type":"node_register"}'), 10)).message).toContain('24 bytes');
  });

  it('rejects text that is not JSON, and JSON that is not an object', () => {
    expect(failure(parseNodeToScheduler('not json')).message).toContain('not valid JSON');
    expect(failure(parseNodeToScheduler('[1,2]')).message).toContain('not a JSON object');
    expect(failure(parseNodeToScheduler('null')).message).toContain('not a JSON object');
    expect(failure(parseNodeToScheduler('"node_register"')).message).toContain('not a JSON object');
  });

  it('requires error on a failed job_result', () => {
    const result = { type: 'job_result', job_id: 'job-1', node_id: 'node-1', session_id: 's-1', trace_id: 't', attempt_id: 1, utterance_index: 0, success: false };
    expect(paths(failure(parseNodeToScheduler(JSON.stringify(result))))).toEqual(['error']);
    const ok = parseNodeToScheduler(JSON.stringify({ ...result, error: { code: 'PROCESSING_ERROR', message: 'DUPLICATE_JOB_ID: job-1', details: { any: ['thing'] } } }));
    if (!ok.ok) throw ok.error;
    expect(ok.value).toMatchObject({ error: { details: { any: ['thing'] } } });
  });

  it('requires node_id on a node_error sent by a node, but not on one sent by the scheduler', () => {
    const error = { type: 'node_error', code: 'X', message: 'm' };
    expect(paths(failure(parseNodeToScheduler(JSON.stringify(error))))).toEqual(['node_id']);
    expect(parseSchedulerToNode(JSON.stringify(error)).ok).toBe(true);
  });

  it('treats null as absent and ignores unknown members at every level', () => {
    const result = parseNodeToScheduler(JSON.stringify(register({ installed_services: null, language_capabilities: null, future_field: 1, hardware: { cpu_cores: 4, memory_gb: 8, gpus: null, vendor: 'x' } })));
    if (!result.ok) throw result.error;
    expect(result.value).not.toHaveProperty('future_field');
    expect(result.value).toMatchObject({ hardware: { cpu_cores: 4, memory_gb: 8 } });
    expect(result.value).not.toHaveProperty('hardware.vendor');
    expect((result.value as NodeRegister).installed_services).toBeUndefined();
  });

  it('keeps the open `details` object of node_error and the unknown keys of job_result.extra', () => {
    const nodeError = parseSchedulerToNode(JSON.stringify({ type: 'error', code: 'NODE_ID_CONFLICT', message: 'm', details: { type: 'node_register', reason: 'x', nested: { a: 1 } } }));
    if (!nodeError.ok) throw nodeError.error;
    expect(nodeError.value).toMatchObject({ type: 'error', details: { type: 'node_register', reason: 'x', nested: { a: 1 } } });

    const result = { type: 'job_result', job_id: 'j', node_id: 'n', session_id: 's', trace_id: 't', attempt_id: 1, utterance_index: 0, success: true, extra: { reason: 'ASR_EMPTY', vendor_score: { x: 1 } } };
    const parsed = parseNodeToScheduler(JSON.stringify(result));
    if (!parsed.ok) throw parsed.error;
    expect(parsed.value).toMatchObject({ extra: { reason: 'ASR_EMPTY', vendor_score: { x: 1 } } });
  });

  it('rejects a known key of extra with the wrong type', () => {
    const result = { type: 'job_result', job_id: 'j', node_id: 'n', session_id: 's', trace_id: 't', attempt_id: 1, utterance_index: 0, success: true, extra: { service_timings: { asr_ms: 1.5 } } };
    expect(paths(failure(parseNodeToScheduler(JSON.stringify(result))))).toEqual(['extra.service_timings.asr_ms']);
  });

  it('accepts node_status with reason null and a timestamp in seconds', () => {
    const result = parseSchedulerToNode(JSON.stringify({ type: 'node_status', node_id: 'n', status: 'offline', reason: null, timestamp: 1767225630 }));
    if (!result.ok) throw result.error;
    expect(result.value).toMatchObject({ status: 'offline', reason: null });
    expect(nodeStatusTimestampMs(1767225630)).toBe(1767225630000);
    expect(nodeStatusTimestampMs(1767225630000)).toBe(1767225630000);
  });

  it('lets a sender build a message from the inferred type alone, absent fields omitted on the wire', () => {
    const heartbeat: NodeHeartbeat = {
      type: 'node_heartbeat',
      node_id: 'node-3F2A9C1B',
      timestamp: 1767225600000,
      resource_usage: { cpu_percent: 1.5, mem_percent: 20, running_jobs: 0, gpu_percent: undefined },
      installed_services: [],
      capability_by_type: [],
      seq: 1,
    };
    const wire = encodeFrame(heartbeat);
    expect(JSON.parse(wire)).toEqual({ ...heartbeat, resource_usage: { cpu_percent: 1.5, mem_percent: 20, running_jobs: 0 } });
    const back = parseNodeToScheduler(wire);
    if (!back.ok) throw back.error;
    expect(back.value).toEqual(JSON.parse(wire));
  });
});
