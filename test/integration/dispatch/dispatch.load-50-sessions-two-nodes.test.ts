/**
 * Load (issue "Jobs end to end"): 50 sessions at once, 5 utterances each, against two whole nodes
 * in this process (real links, heartbeats and job machines; instant fake speech and audio). Every
 * utterance gets exactly one result, with its own transcript, in order per session, none lost; at
 * the end no slot is reserved and no job is left, as `/api/v1/dispatch` shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler } from '../../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../../src/cli/start-scheduler.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { SessionClient } from '../../support/dispatch-harness.js';
import type { Message } from '../../support/dispatch-harness.js';
import { labelledPcm16, startInstantNode } from '../../support/instant-node.js';
import type { InstantNode } from '../../support/instant-node.js';
import { waitFor } from '../../support/scripted-scheduler.js';

const SESSIONS = 50;
const UTTERANCES = 5;

let scheduler: SchedulerHandle;
const nodes: InstantNode[] = [];
const clients: SessionClient[] = [];

beforeAll(async () => {
  scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: silentLogger(), heartbeatIntervalMs: 100 });
  await scheduler.ready;
  for (let i = 0; i < 2; i++) nodes.push(await startInstantNode(`ws://127.0.0.1:${scheduler.port}`));
  await waitFor(() => scheduler.registry.list().filter((n) => n.status === 'ready').length === 2, 'two ready nodes', 10_000);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(nodes.map((n) => n.stop()));
  await scheduler?.stop();
});

describe('50 sessions × 5 utterances on two nodes', () => {
  it('delivers exactly one result per utterance, in order per session, and frees every slot', async () => {
    const url = `ws://127.0.0.1:${scheduler.port}/ws/session`;
    for (let s = 0; s < SESSIONS; s++) {
      const client = await SessionClient.connect(url);
      await client.init({ audio_format: 'pcm16' });
      clients.push(client);
    }
    // Every session speaks its five utterances at once: a labelled chunk, then the manual cut.
    clients.forEach((client, s) => {
      for (let u = 0; u < UTTERANCES; u++) {
        client.chunk(labelledPcm16(s, u).toString('base64'));
        client.chunk('', true);
      }
    });
    const results = await Promise.all(
      clients.map(async (client) => {
        const got: Message[] = [];
        for (let u = 0; u < UTTERANCES; u++) got.push(await client.next((m) => m.type !== 'ui_event', 20_000));
        return got;
      }),
    );
    results.forEach((got, s) => {
      expect(got.map((m) => [m.type, m.utterance_index, m.text_asr])).toEqual(Array.from({ length: UTTERANCES }, (_, u) => ['translation_result', u, `s${s} u${u}`]));
    });
    // Nothing more comes: no second result for any utterance.
    const extra = await Promise.all(clients.map((c) => c.sync()));
    expect(extra.flat()).toEqual([]);
    const status = await fetch(`http://127.0.0.1:${scheduler.port}/api/v1/dispatch`).then((r) => r.json());
    expect(status).toEqual({ sessions: SESSIONS, jobs: { queued: 0, inFlight: 0, reservations: {} } });
    const served = nodes.map((n) => n.speech.calls.filter((c) => c.op === 'transcribe').length);
    expect(served.reduce((a, b) => a + b, 0)).toBe(SESSIONS * UTTERANCES);
    expect(Math.min(...served)).toBeGreaterThan(0);
    const metrics = await fetch(`http://127.0.0.1:${scheduler.port}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`linguamesh_scheduler_job_latency_seconds_count ${SESSIONS * UTTERANCES}\\b`));
    expect(metrics).toMatch(new RegExp(`linguamesh_scheduler_sessions_open ${SESSIONS}\\b`));
    expect(metrics).not.toMatch(/linguamesh_scheduler_jobs_failed_total\{/);
    console.log(`[load] ${SESSIONS * UTTERANCES} utterances; per node ${served.join(' / ')}; ${metrics.match(/linguamesh_scheduler_jobs_reassigned_total\{[^\n]*/g)?.join(', ') ?? 'no reassignment'}`);
  }, 60_000);
});
