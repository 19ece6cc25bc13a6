/**
 * Registration and identity on `/ws/node` with raw ws clients (PROTOCOL.md §4.1, §4.2; §12 items
 * 3–9 and 11): what is acked, each rejection code, a connection that stays usable after a
 * rejection, re-registration, and messages that speak for another node.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_ID_PATTERN } from '../../../src/protocol/index.js';
import type { StoredNode } from '../../../src/kernel/ports/capability-store.port.js';
import { heartbeatFrame, registerFrame } from '../../support/node-frames.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

let t: TestScheduler | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('node registration', () => {
  it('acks a node_register without node_id with a fresh node-XXXXXXXX id, status registering and the heartbeat interval', async () => {
    t = await startTestScheduler();
    const { ack } = await t.registerNode();
    expect(ack).toEqual({ type: 'node_register_ack', node_id: expect.stringMatching(NODE_ID_PATTERN), message: 'Node registered successfully', status: 'registering', heartbeat_interval_ms: 15_000 });
  });

  it('echoes a node_id the node gives (§12 item 5)', async () => {
    t = await startTestScheduler();
    const { ack } = await t.registerNode({ node_id: 'node-ABCDEF12' });
    expect(ack.node_id).toBe('node-ABCDEF12');
  });

  it('answers an unknown type with node_error INVALID_MESSAGE naming the type, then acks a valid register on the same socket (§12 item 3)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send({ type: 'bogus' });
    const error = await client.nextOfType('node_error');
    expect(error).toMatchObject({ code: 'INVALID_MESSAGE', details: { type: 'bogus', reason: expect.stringContaining('type') } });
    client.send(registerFrame());
    await expect(client.nextOfType('node_register_ack')).resolves.toMatchObject({ status: 'registering' });
  });

  it('answers a frame that is not JSON with INVALID_MESSAGE and keeps the connection', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send('not json');
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', details: { reason: expect.stringContaining('JSON') } });
    client.send(registerFrame());
    await expect(client.nextOfType('node_register_ack')).resolves.toBeDefined();
  });

  it('refuses a fractional hardware.cpu_cores with INVALID_MESSAGE naming the field, and sends no ack (§12 item 4)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send(registerFrame({ hardware: { cpu_cores: 15.5, memory_gb: 64, gpus: [{ name: 'GPU', memory_gb: 12 }] } }));
    const error = await client.nextOfType('node_error');
    expect(error).toMatchObject({ code: 'INVALID_MESSAGE', details: { type: 'node_register', reason: expect.stringContaining('hardware.cpu_cores') } });
    expect(await client.sync()).toEqual([]);
  });

  it('drops an installed_services item of an unknown type and keeps the rest (§12 item 6)', async () => {
    t = await startTestScheduler();
    const { nodeId } = await t.registerNode({
      installed_services: [
        { service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' },
        { service_id: 'lex', type: 'lexicon', device: 'gpu', status: 'running' },
      ],
    });
    const { body } = await t.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`);
    expect(body.capabilities.installedServices).toEqual([{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }]);
  });

  it('refuses capability_schema_version "3.0" with INVALID_CAPABILITY_SCHEMA and accepts it absent (§12 item 7)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send(registerFrame({ capability_schema_version: '3.0' }));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'INVALID_CAPABILITY_SCHEMA' });
    client.send(registerFrame({ capability_schema_version: undefined }));
    await expect(client.nextOfType('node_register_ack')).resolves.toBeDefined();
  });

  it('refuses a node without GPU with NO_GPU_AVAILABLE; the same connection registers once corrected (§12 item 8)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send(registerFrame({ hardware: { cpu_cores: 8, memory_gb: 16, gpus: [] } }));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'NO_GPU_AVAILABLE' });
    client.send(registerFrame({ hardware: { cpu_cores: 8, memory_gb: 16 } }));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'NO_GPU_AVAILABLE' });
    client.send(registerFrame());
    await expect(client.nextOfType('node_register_ack')).resolves.toBeDefined();
  });

  it('counts GPU items that failed validation as absent (§4.1 step 3, "after item validation")', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send(registerFrame({ hardware: { cpu_cores: 8, memory_gb: 16, gpus: [{ name: 'GPU', memory_gb: 11.5 }] } }));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'NO_GPU_AVAILABLE' });
  });

  it('acks a node without GPU when allowCpuNodes is on (§12 item 8)', async () => {
    t = await startTestScheduler({ allowCpuNodes: true });
    const { ack } = await t.registerNode({ hardware: { cpu_cores: 8, memory_gb: 16, gpus: [] } });
    expect(ack.status).toBe('registering');
  });

  it('refuses an id held by another live connection with NODE_ID_CONFLICT, leaves the holder alone, and accepts it once the holder closed (§12 item 9)', async () => {
    t = await startTestScheduler();
    const a = await t.registerNode({ node_id: 'node-0000000A' });
    const b = await t.connectNode();
    b.send(registerFrame({ node_id: 'node-0000000A' }));
    await expect(b.nextOfType('node_error')).resolves.toMatchObject({ code: 'NODE_ID_CONFLICT' });
    a.client.send(heartbeatFrame('node-0000000A', 1));
    expect(await a.client.sync()).toEqual([]);
    expect((await t.getJson<StoredNode>('/api/v1/nodes/node-0000000A')).body).toMatchObject({ status: 'registering', lastHeartbeatAt: expect.any(Number) });
    await a.client.close();
    await b.sync();
    b.send(registerFrame({ node_id: 'node-0000000A' }));
    await expect(b.nextOfType('node_register_ack')).resolves.toMatchObject({ node_id: 'node-0000000A' });
  });

  it('accepts a reconnect with the same id after the old socket closed', async () => {
    t = await startTestScheduler();
    const first = await t.registerNode();
    await first.client.close();
    const again = await t.registerNode({ node_id: first.nodeId });
    expect(again.nodeId).toBe(first.nodeId);
    const { body } = await t.getJson<StoredNode>(`/api/v1/nodes/${first.nodeId}`);
    expect(body).toMatchObject({ status: 'registering', reason: 'registered' });
  });

  it('re-registers on a second node_register of the same connection, and refuses one naming another id (§4.1)', async () => {
    t = await startTestScheduler();
    const { client, nodeId } = await t.registerNode();
    for (let seq = 1; seq <= 3; seq++) client.send(heartbeatFrame(nodeId, seq));
    await expect(client.nextOfType('node_status')).resolves.toMatchObject({ status: 'ready' });
    client.send(registerFrame({ node_id: 'node-FFFFFFFF' }));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', details: { reason: 'NODE_ID_MISMATCH' } });
    expect((await t.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`)).body.status).toBe('ready');
    client.send(registerFrame());
    await expect(client.nextOfType('node_register_ack')).resolves.toMatchObject({ node_id: nodeId, status: 'registering' });
    expect((await t.getJson<StoredNode>(`/api/v1/nodes/${nodeId}`)).body).toMatchObject({ status: 'registering', pools: { speech: [], text: [] } });
  });

  it('answers a heartbeat on an unregistered connection with NOT_REGISTERED (§12 item 11)', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    client.send(heartbeatFrame('node-12345678', 1));
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', details: { type: 'node_heartbeat', reason: 'NOT_REGISTERED' } });
  });

  it('answers a heartbeat naming another node with NODE_ID_MISMATCH and changes nothing (§12 item 11)', async () => {
    t = await startTestScheduler();
    const a = await t.registerNode();
    const b = await t.registerNode();
    b.client.send(heartbeatFrame(a.nodeId, 1));
    await expect(b.client.nextOfType('node_error')).resolves.toMatchObject({ code: 'INVALID_MESSAGE', details: { type: 'node_heartbeat', reason: 'NODE_ID_MISMATCH' } });
    const nodes = (await t.getJson<{ nodes: StoredNode[] }>('/api/v1/nodes')).body.nodes;
    expect(nodes.map((n) => [n.nodeId, n.lastHeartbeatAt])).toEqual(expect.arrayContaining([[a.nodeId, undefined], [b.nodeId, undefined]]));
  });

  it('applies the identity check to job messages too', async () => {
    t = await startTestScheduler();
    const client = await t.connectNode();
    const ack = { type: 'job_ack', job_id: 'job-1', attempt_id: 1, node_id: 'node-12345678', session_id: 's-1', trace_id: 't' };
    client.send(ack);
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ details: { type: 'job_ack', reason: 'NOT_REGISTERED' } });
    client.send(registerFrame());
    await client.nextOfType('node_register_ack');
    client.send(ack);
    await expect(client.nextOfType('node_error')).resolves.toMatchObject({ details: { type: 'job_ack', reason: 'NODE_ID_MISMATCH' } });
  });
});
