/**
 * `linguamesh status` as a real OS process against a real scheduler: a node registers and shows as
 * `registering`; after the three healthy heartbeats the scheduler needs, it shows as `ready`, with
 * its services, load and pool. The scheduler and the node run in this process on one FakeClock
 * (startTestNode with a fake service registry), so the heartbeats come exactly when the test moves
 * time; the CLI only reads the scheduler's HTTP API. An unreachable scheduler is an error, exit 3.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../../src/cli/status.action.js';
import { runCli } from '../../support/cli-process.js';
import { pumpUntil } from '../../support/hotplug-harness.js';
import { startTestNode } from '../../support/node-harness.js';
import { freePort } from '../../support/service-process.js';
import { startTestScheduler } from '../../support/test-scheduler.js';
import type { TestScheduler } from '../../support/test-scheduler.js';

const INTERVAL_MS = 1_000;
const SERVICES = [
  { id: 'asr-en', type: 'asr', state: 'running' as const, languages: { asr: ['en'] } },
  { id: 'mt-en-es', type: 'nmt', state: 'running' as const, languages: { nmt: [{ src: 'en', tgt: 'es' }] } },
  { id: 'tts-es', type: 'tts', state: 'running' as const, languages: { tts: ['es'] } },
];
const CLI_TIMEOUT_MS = 30_000;

let sched: TestScheduler;
let node: Awaited<ReturnType<typeof startTestNode>>;

const schedulerStatus = () => node.node.status().link.schedulerStatus;
/** The NODES table row of `nodeId`, split into its columns. */
function nodeRow(stdout: string, nodeId: string): string[] {
  const nodesTable = stdout.slice(stdout.indexOf('NODES\n'), stdout.indexOf('SERVICES\n'));
  const row = nodesTable.split('\n').find((line) => line.trim().startsWith(nodeId));
  expect(row, stdout).toBeDefined();
  return row!.trim().split(/\s{2,}/);
}

beforeAll(async () => {
  sched = await startTestScheduler({ heartbeatIntervalMs: INTERVAL_MS });
  node = await startTestNode(`ws://127.0.0.1:${sched.scheduler.port}`, { clock: sched.clock, heartbeatIntervalMs: INTERVAL_MS });
  for (const s of SERVICES) node.registry.set(s);
});

afterAll(async () => {
  await node?.node.stop();
  await sched?.stop();
  if (node) rmSync(node.dataDir, { recursive: true, force: true });
});

describe('linguamesh status', () => {
  it('shows a node going from registering to ready, with its services, load and pool', { timeout: 4 * CLI_TIMEOUT_MS }, async () => {
    await pumpUntil(sched.clock, () => schedulerStatus() === 'registering', 'ack', { stepMs: 10 });
    const nodeId = node.node.status().link.nodeId!;

    const before = await runCli(['status', '--scheduler', sched.http], { timeoutMs: CLI_TIMEOUT_MS });
    expect(before.code, before.stderr).toBe(0);
    expect(nodeRow(before.stdout, nodeId).slice(0, 3)).toEqual([nodeId, 'registering', 'registered']);
    expect(before.stdout).toMatch(/POOLS \(speech: with TTS\)\n {2}\(none\)/);

    await pumpUntil(sched.clock, () => schedulerStatus() === 'ready', 'ready', { stepMs: 50 });
    const after = await runCli(['status', '--scheduler', sched.http], { timeoutMs: CLI_TIMEOUT_MS });
    expect(after.code, after.stderr).toBe(0);
    const row = nodeRow(after.stdout, nodeId);
    expect(row.slice(0, 3)).toEqual([nodeId, 'ready', 'healthy_heartbeats']);
    // JOBS: running / max_concurrent_jobs (and the dispatcher's reservations for the node).
    expect(row[3]).toMatch(/^0\/\d+/);
    for (const s of SERVICES) expect(after.stdout).toMatch(new RegExp(`${nodeId}\\s+${s.id}\\s+${s.type}\\s+\\w+\\s+running`));
    expect(after.stdout).toMatch(new RegExp(`en:es\\s+1\\s+${nodeId}`));
    expect(after.stdout).toContain('0 queued, 0 in flight');

    const json = await runCli(['status', '--scheduler', sched.http, '--json'], { timeoutMs: CLI_TIMEOUT_MS });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; nodes: { nodes: unknown[] }; pools: { speech: { pools: unknown } }; dispatch: unknown };
    expect(report.ok).toBe(true);
    expect(report.nodes.nodes).toEqual([expect.objectContaining({ nodeId, status: 'ready', reason: 'healthy_heartbeats' })]);
    expect(report.pools.speech.pools).toEqual({ 'en:es': [nodeId] });
    expect(report.dispatch).toEqual({ sessions: 0, jobs: { queued: 0, inFlight: 0, reservations: {} } });
  });

  it('says so, with exit code 3, when the scheduler cannot be reached', { timeout: 2 * CLI_TIMEOUT_MS }, async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const json = await runCli(['status', '--scheduler', url, '--json'], { timeoutMs: CLI_TIMEOUT_MS });
    expect(json.code).toBe(3);
    expect(json.stderr).toContain(`linguamesh status: SCHEDULER_UNREACHABLE: cannot reach the scheduler at ${url}`);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'SCHEDULER_UNREACHABLE' } });
  });

  it('sends --auth-token to a token-guarded scheduler; without it: UNAUTHORIZED, exit code 3 (the command function, in process)', async () => {
    const guarded = await startTestScheduler({ authToken: 'sekret' });
    try {
      const captured = () => {
        const out = { stdout: '', stderr: '' };
        return { out, sink: { stdout: (text: string) => void (out.stdout += text), stderr: (text: string) => void (out.stderr += text) } };
      };
      const refused = captured();
      expect(await runStatus({ scheduler: guarded.http, json: false, timeoutMs: 5_000 }, refused.sink)).toBe(3);
      expect(refused.out.stderr).toMatch(/^linguamesh status: UNAUTHORIZED: /);
      const allowed = captured();
      expect(await runStatus({ scheduler: guarded.http, json: true, authToken: 'sekret', timeoutMs: 5_000 }, allowed.sink)).toBe(0);
      expect(JSON.parse(allowed.out.stdout)).toMatchObject({ ok: true, nodes: { nodes: [] } });
      expect(allowed.out.stdout + allowed.out.stderr).not.toContain('sekret');
    } finally {
      await guarded.stop();
    }
  });
});
