/**
 * The embedding API from a plain Node script, as a host app would use it: the script
 * (test/fixtures/embedding/embed-scheduler-and-node.mjs) imports `startScheduler` and `startNode`
 * from 'linguamesh' (the package entry of package.json `exports`), runs one utterance through a
 * session on a whole node whose services are instant OS processes, reads `status()`, calls
 * `stop()`, and must then exit by itself with code 0: no handle left open, no process left in its
 * process group, none of the service processes alive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordPid } from '../../support/pids.js';

const REPO = resolve(import.meta.dirname, '../../..');
const SCRIPT = join(REPO, 'test/fixtures/embedding/embed-scheduler-and-node.mjs');
/** The script's own bound: a host app that hangs after stop() fails the test here. */
const EXIT_BOUND_MS = 90_000;
const work = mkdtempSync(join(tmpdir(), 'lm-embed-'));
const spawned: number[] = [];

afterAll(() => {
  for (const pid of spawned) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* the group is gone */
    }
  }
  rmSync(work, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether no process is left in process group `pgid`, polled until `withinMs`. */
async function groupGone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
      throw err;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `node <args>` in its own process group; resolves with its exit, or `timedOut` past the bound. */
function runNode(args: string[], options: { cwd: string; env?: Record<string, string>; boundMs: number }): Promise<{ code: number | null; timedOut: boolean; stdout: string; stderr: string; pid: number }> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  recordPid(child.pid);
  spawned.push(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise({ code: null, timedOut: true, stdout, stderr, pid: child.pid! }), options.boundMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // The streams may still hold the last line.
      setImmediate(() => resolvePromise({ code, timedOut: false, stdout, stderr, pid: child.pid! }));
    });
  });
}

describe('embedding linguamesh in a plain Node script', () => {
  it('embeds a scheduler and a node, runs one job, reads status(), stops, and the script exits by itself with nothing left running', async () => {
    const pidsFile = join(work, 'service-pids');
    const run = await runNode([SCRIPT, work], { cwd: REPO, env: { EMBED_PIDS_FILE: pidsFile }, boundMs: EXIT_BOUND_MS });
    expect(run.timedOut, `the script did not exit by itself within ${EXIT_BOUND_MS} ms; stderr: ${run.stderr}`).toBe(false);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary.error, String(summary.error)).toBeUndefined();
    expect(run.code).toBe(0);

    expect(summary.result).toMatchObject({ type: 'translation_result', text_asr: expect.stringMatching(/^instant transcript of \d+ bytes$/), tts_format: 'opus' });
    const result = summary.result as { text_asr: string; text_translated: string; tts_bytes: number };
    expect(result.text_translated).toBe(`[es] ${result.text_asr}`);
    expect(result.tts_bytes).toBeGreaterThan(0);

    // status() of both roles, read while they ran.
    expect(summary.schedulerStatus).toMatchObject({ role: 'scheduler', nodes: [{ nodeId: summary.registeredAs, status: 'ready', connected: true }], jobs: { queued: 0, inFlight: 0 } });
    expect(summary.nodeStatus).toEqual({ link: 'registered', schedulerStatus: 'ready', services: ['asr-instant:running', 'mt-instant:running', 'tts-instant:running'], runningJobs: 0 });
    // The typed subscription saw the node come and go; stop() was an ordered shutdown.
    expect(summary.statusChanges).toEqual(expect.arrayContaining(['none->registering', 'registering->ready']));
    expect(summary).toMatchObject({ nodeExit: 'shutdown', schedulerExit: 'shutdown', inspector: { record: join(work, 'node-inspection.jsonl') } });
    expect(summary.recordedLines as number).toBeGreaterThan(0);

    // Nothing left: not the script's process group (tsx's esbuild service ends with its parent, and
    // is reaped by init a moment later), not one of the services (each in a group of its own).
    expect(await groupGone(run.pid, 5_000)).toBe(true);
    const servicePids = readFileSync(pidsFile, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(servicePids).toHaveLength(3);
    expect(servicePids.filter(alive)).toEqual([]);
  }, EXIT_BOUND_MS + 10_000);

  it("resolves 'linguamesh' from another directory whose node_modules holds the package", async () => {
    const host = join(work, 'host-app');
    mkdirSync(join(host, 'node_modules'), { recursive: true });
    if (!existsSync(join(host, 'node_modules', 'linguamesh'))) symlinkSync(REPO, join(host, 'node_modules', 'linguamesh'), 'dir');
    const code = "import('linguamesh').then((m) => console.log(JSON.stringify(['startNode', 'startScheduler', 'startHub', 'startAll'].map((name) => typeof m[name]))))";
    const run = await runNode(['--input-type=module', '-e', code], { cwd: host, boundMs: 60_000 });
    expect(run, run.stderr).toMatchObject({ code: 0, timedOut: false });
    expect(JSON.parse(run.stdout.trim())).toEqual(['function', 'function', 'function', 'function']);
  }, 70_000);
});
