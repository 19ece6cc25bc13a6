/**
 * `linguamesh up` as an OS process, the way a newcomer runs it (issue 11).
 *
 * 1. `up --demo` on an empty data directory: it builds, packs and publishes the three reference
 *    services to its hub, installs them on its node through the package manager, waits for the node
 *    to be `ready` in its scheduler, translates every bundled speech fixture in one session, prints
 *    transcript, translation, timings and the WAV it wrote for each, and exits 0 by itself with no
 *    service process left.
 * 2. `up` on the same data directory (the hub has the packages, the node has them installed): it
 *    serves until SIGTERM, then stops node, scheduler and hub and exits 0 with nothing left running.
 *
 * Every process under the command is recorded (polled from /proc) for the suite's orphan check.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { wavToPcm16 } from '../../../src/protocol/wav.js';
import { alive } from '../../support/hotplug-harness.js';
import { recordPid } from '../../support/pids.js';
import { descendantsOf, processesWorkingUnder } from '../../support/process-tree.js';
import { loadSpeechFixtures } from '../../support/speech-fixtures.js';
import { wordErrorRate, words } from '../../support/word-error-rate.js';

/** A fresh box does everything (esbuild, zip, install, engines warming up, six utterances) on 2 busy cores. */
const DEMO_TIMEOUT_MS = 240_000;
const fixtures = loadSpeechFixtures();
const dataDir = mkdtempSync(join(tmpdir(), 'lm-up-'));
const recorded = new Set<number>();
const running: Up[] = [];

interface Up {
  child: ChildProcessByStdio<null, Readable, Readable>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Every process seen under the command while it ran. */
  seen: Set<number>;
}

function record(pid: number | undefined): void {
  if (pid === undefined || recorded.has(pid)) return;
  recorded.add(pid);
  recordPid(pid);
}

function startUp(args: string[]): Up {
  const child = spawn(process.execPath, ['bin/linguamesh.js', 'up', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  record(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const seen = new Set<number>();
  // Service processes are the node's children: recorded as they appear (real process I/O, polled).
  const poll = setInterval(() => {
    for (const pid of descendantsOf(child.pid!)) {
      seen.add(pid);
      record(pid);
    }
  }, 200);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      clearInterval(poll);
      resolve(code);
    }),
  );
  const up = { child, stdout: () => stdout, stderr: () => stderr, exited, seen };
  running.push(up);
  return up;
}

async function until(condition: () => boolean, what: string, up: Up, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (up.child.exitCode !== null) throw new Error(`up exited (${up.child.exitCode}) before ${what}\nstdout:\n${up.stdout()}\nstderr:\n${up.stderr().slice(-4_000)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${up.stdout()}\nstderr:\n${up.stderr().slice(-4_000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The block the demo printed for `file`: its labelled lines. */
function blockOf(stdout: string, file: string): Record<string, string> {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => /^\[\d+\/\d+\] /.test(l) && l.endsWith(` ${file}`));
  expect(start, `no block for ${file} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const block: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}(\w+) +(.*)$/.exec(line);
    if (!m) break;
    block[m[1]!] = m[2]!;
  }
  return block;
}

afterAll(async () => {
  for (const up of running) {
    if (up.child.exitCode === null) up.child.kill('SIGKILL');
    await up.exited;
  }
  for (const pid of recorded) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('linguamesh up', () => {
  it('--demo on an empty data directory: every fixture comes back transcribed, translated and spoken; exit 0 by itself, nothing left running', async () => {
    const up = startUp(['--demo']);
    const code = await Promise.race([up.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), DEMO_TIMEOUT_MS - 10_000))]);
    const stdout = up.stdout();
    const stderr = up.stderr();
    expect(code, `stdout:\n${stdout}\nstderr:\n${stderr.slice(-6_000)}`).toBe(0);

    // Published and installed through the hub and the package manager, the node ready in the scheduler.
    for (const id of ['asr-pocketsphinx', 'mt-apertium', 'tts-espeak']) {
      expect(stderr).toContain(`${id}@1.0.0: published to the hub`);
      expect(stderr).toContain(`${id}@1.0.0: installed on the node`);
    }
    expect(stderr).toMatch(/node ready at the scheduler/);
    expect(stdout).toMatch(/^ {2}scheduler {2}http:\/\/127\.0\.0\.1:\d+ {2}\(nodes ws:\/\/127\.0\.0\.1:\d+\/ws\/node, sessions ws:\/\/127\.0\.0\.1:\d+\/ws\/session\)$/m);
    expect(stdout).toMatch(/^ {2}hub {8}http:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^ {2}node {7}http:\/\/127\.0\.0\.1:\d+ /m);
    if (stdout.includes('no GPU found')) expect(stderr.split('\n').filter((l) => l.includes('allow_cpu_nodes')).length).toBe(1);

    const blocks = fixtures.map((f) => ({ fixture: f, block: blockOf(stdout, f.file) }));
    for (const { fixture, block } of blocks) {
      expect(block.reference).toBe(fixture.text);
      expect(words(block.transcript ?? '').length, fixture.file).toBeGreaterThan(0);
      expect(words(block.translation ?? '').length, fixture.file).toBeGreaterThan(0);
      expect(block.translation).not.toBe(block.transcript);
      expect(block.timings).toMatch(/^asr \d+ ms · nmt \d+ ms · tts \d+ ms · node total \d+ ms · round trip \d+ ms$/);
      const path = /^(\S+\.wav) \(/.exec(block.speech ?? '')?.[1];
      expect(path, block.speech).toBe(join(dataDir, 'demo', fixture.file.replace(/\.wav$/, '.es.wav')));
      const wav = wavToPcm16(readFileSync(path!));
      expect(wav.ok, `${path} is not a WAV`).toBe(true);
      if (!wav.ok) continue;
      const seconds = wav.value.pcm.byteLength / 2 / wav.value.sampleRate;
      expect(seconds).toBeGreaterThan(0.7);
      expect(seconds).toBeLessThan(6);
    }
    // PocketSphinx hears the fixtures nearly word for word; Apertium's Spanish is clumsy but Spanish.
    expect(wordErrorRate(blocks.map(({ fixture, block }) => ({ reference: fixture.text, hypothesis: block.transcript ?? '' }))).wer).toBeLessThanOrEqual(0.25);
    expect(blocks.flatMap(({ block }) => words(block.translation ?? ''))).toEqual(expect.arrayContaining(['tren', 'café', 'tiempo']));
    expect(stdout).toContain(`demo: ${fixtures.length}/${fixtures.length} utterances came back`);

    // The node's service processes ran under the command, and none outlived it.
    expect(up.seen.size).toBeGreaterThanOrEqual(3);
    expect([...up.seen].filter(alive)).toEqual([]);
    expect(processesWorkingUnder(dataDir)).toEqual([]);
  }, DEMO_TIMEOUT_MS);

  it('without --demo, on the same data directory: packages already there, serves until SIGTERM, then stops in order and exits 0 with nothing left', async () => {
    const up = startUp([]);
    await until(() => up.stdout().includes('serving;'), 'serving', up, 120_000);
    expect(up.stderr()).toMatch(/asr-pocketsphinx@1\.0\.0: already on the hub/);
    expect(up.stderr()).toMatch(/asr-pocketsphinx@1\.0\.0: already installed on the node/);
    const nodeUrl = /^ {2}node {7}(http:\/\/127\.0\.0\.1:\d+)/m.exec(up.stdout())?.[1];
    const status = (await (await fetch(`${nodeUrl}/status`)).json()) as { services: { id: string; state: string }[]; link: { schedulerStatus?: string } };
    expect(status.link.schedulerStatus).toBe('ready');
    expect(status.services.map((s) => [s.id, s.state]).sort()).toEqual([
      ['asr-pocketsphinx', 'running'],
      ['mt-apertium', 'running'],
      ['tts-espeak', 'running'],
    ]);
    const services = descendantsOf(up.child.pid!);
    services.forEach(record);
    expect(services.length).toBeGreaterThanOrEqual(3);

    up.child.kill('SIGTERM');
    expect(await up.exited).toBe(0);
    expect(up.stderr()).toContain('SIGTERM: stopping node, scheduler and hub');
    expect([...up.seen, ...services].filter(alive)).toEqual([]);
    expect(processesWorkingUnder(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'node', 'services', 'tts-espeak', 'current'))).toBe(true);
  }, 150_000);
});
