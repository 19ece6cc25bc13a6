/**
 * `linguamesh translate` as a real OS process against the whole system on loopback: a scheduler
 * (`startScheduler`) and a node (`startNodeRole`) running the three reference services —
 * PocketSphinx ASR, Apertium MT, eSpeak NG TTS — as OS processes, in this process (the harness of
 * scheduler-and-nodes.real-services-end-to-end.test.ts). A flite fixture goes in as a file, and
 * two of them go in as one stereo 32 kHz WAV on stdin, cut into two utterances at the pause; the
 * CLI prints the English transcripts, the Spanish translations and the timings, and writes the
 * synthesized speech as one WAV. No node for a language pair ends in NO_AVAILABLE_NODE with exit
 * code 1; a bad file and an unreachable scheduler end with their own codes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWav } from '../../native/services/shared/wav.js';
import { startNodeRole } from '../../src/cli/node-role.js';
import type { NodeRoleHandle } from '../../src/cli/node-role.js';
import { startScheduler } from '../../src/cli/start-scheduler.js';
import type { SchedulerHandle } from '../../src/cli/start-scheduler.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { runTranslate } from '../../src/cli/translate.action.js';
import { DEFAULT_TRANSLATE_FLAGS } from '../../src/cli/translate.command.js';
import { runCli } from '../support/cli-process.js';
import { waitFor } from '../support/scripted-scheduler.js';
import { buildService, ENGINE_TEST_TIMEOUT_MS, freePort } from '../support/service-process.js';
import type { BuiltService } from '../support/service-process.js';
import { loadSpeechFixtures } from '../support/speech-fixtures.js';
import { wordErrorRate, words } from '../support/word-error-rate.js';

const fixtures = loadSpeechFixtures();
const fixture = fixtures.find((f) => f.file === '01-where-is-the.wav')!;
const second = fixtures.find((f) => f.file === '02-i-would-like.wav')!;
const SPEECH = { use_nmt: true, use_tts: true };
/** How long the scheduler waits for a node before NO_AVAILABLE_NODE, in ms (10 000 by default). */
const NO_NODE_TIMEOUT_MS = 1_000;
const built: BuiltService[] = [];
let dataDir: string;
let workDir: string;
let node: NodeRoleHandle | undefined;
let scheduler: SchedulerHandle;
let schedulerUrl: string;

beforeAll(async () => {
  built.push(...(await Promise.all(['asr-pocketsphinx', 'mt-apertium', 'tts-espeak'].map((id) => buildService(id)))));
  scheduler = startScheduler({ host: '127.0.0.1', port: 0, logger: silentLogger(), allowCpuNodes: true, heartbeatIntervalMs: 250, noNodeTimeoutMs: NO_NODE_TIMEOUT_MS });
  await scheduler.ready;
  schedulerUrl = `ws://127.0.0.1:${scheduler.port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'lm-translate-node-'));
  workDir = mkdtempSync(join(tmpdir(), 'lm-translate-out-'));
  node = await startNodeRole({
    schedulerUrl: `${schedulerUrl}/ws/node`,
    dataDir,
    httpPort: 0,
    allowCpuServices: true,
    heartbeatDebounceMs: 200,
    extraServiceDirs: built.map((b) => b.bundle.outDir),
    logger: silentLogger(),
  });
  await waitFor(() => node!.services.registry.list().filter((s) => s.state === 'running').length === 3, 'services running', 60_000);
  await waitFor(() => scheduler.registry.eligibleNodes({ mode: 'one_way', src: 'en', tgt: 'es', pipeline: SPEECH }).length === 1, 'the node in en:es', 30_000);
}, ENGINE_TEST_TIMEOUT_MS);

afterAll(async () => {
  await node?.stop();
  await scheduler?.stop();
  built.forEach((b) => b.remove());
  for (const dir of [dataDir, workDir]) if (dir) rmSync(dir, { recursive: true, force: true });
}, ENGINE_TEST_TIMEOUT_MS);

/**
 * The speech of `wavs`, `pauseMs` of silence apart, as one stereo WAV at twice their rate (each
 * sample repeated, both channels alike): the same speech in another shape.
 */
function stereoAtDoubleRate(wavs: Buffer[], pauseMs: number): Buffer {
  const parts = wavs.map((w) => readWav(w));
  const sampleRate = parts[0]!.sampleRate;
  const pause = new Int16Array((pauseMs * sampleRate) / 1000);
  const samples = parts.flatMap((p, i) => (i === 0 ? [p.samples] : [pause, p.samples])).flatMap((a) => [...a]);
  const data = Buffer.alloc(samples.length * 8);
  samples.forEach((s, i) => {
    for (let k = 0; k < 4; k++) data.writeInt16LE(s, i * 8 + k * 2);
  });
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(sampleRate * 2, 24);
  header.writeUInt32LE(sampleRate * 2 * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

function expectSpanish(translation: string): void {
  // Apertium's eng-spa says "dónde es la canal de tren": clumsy, but Spanish.
  expect(words(translation)).toEqual(expect.arrayContaining(['dónde', 'tren']));
}

function expectSpeechWav(file: string): number {
  const wav = readWav(readFileSync(file));
  expect(wav.sampleRate).toBe(16_000);
  expect(wav.channels).toBe(1);
  const ms = (wav.samples.length * 1000) / wav.sampleRate;
  expect(ms).toBeGreaterThan(700);
  expect(ms).toBeLessThan(6_000);
  return ms;
}

describe('linguamesh translate against a scheduler and a node with the reference services', { timeout: ENGINE_TEST_TIMEOUT_MS }, () => {
  it('a WAV file → transcript, translation and timings printed, speech written to --out', async () => {
    const out = join(workDir, 'out.wav');
    const run = await runCli(['translate', join('test/fixtures/speech', fixture.file), '--from', 'en', '--to', 'es', '--out', out, '--scheduler', schedulerUrl], { timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^translating .*01-where-is-the\.wav \(\d+\.\d s, 1 utterance\) en → es via ws:\/\/127\.0\.0\.1:\d+ \(session s-[0-9A-F]{8}\)$/);
    expect(lines[1]).toMatch(/^\[1\/1\] \d+\.\d s–\d+\.\d s$/);
    const transcript = lines.find((l) => l.startsWith('  en: '))!.slice(6);
    expect(wordErrorRate([{ reference: fixture.text, hypothesis: transcript }]).wer).toBeLessThanOrEqual(0.25);
    expectSpanish(lines.find((l) => l.startsWith('  es: '))!.slice(6));
    expect(run.stdout).toMatch(/ {2}timings: asr \d+ ms · nmt \d+ ms · tts \d+ ms · node total \d+ ms · round trip \d+ ms · speech \d+\.\d s\n/);
    const ms = expectSpeechWav(out);
    expect(run.stdout).toContain(`wrote ${out}: ${(ms / 1000).toFixed(1)} s of speech (16 kHz mono WAV)`);
    console.log(`[translate] ${run.stdout.trim().split('\n').join(' | ')}`);
  });

  it('two sentences as a stereo 32 kHz WAV on stdin, cut into two utterances, pcm16 on the wire, --json → one JSON object', async () => {
    const out = join(workDir, 'stdin.wav');
    const pauseMs = 1_500;
    const run = await runCli(['translate', '-', '--from', 'en', '--to', 'es', '--format', 'pcm16', '--max-utterance-ms', '3000', '--json', '--out', out, '--scheduler', schedulerUrl], {
      stdin: stereoAtDoubleRate([fixture.wav, second.wav], pauseMs),
      timeoutMs: 80_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      sessionId: string;
      input: { file: string; durationMs: number };
      utterances: { index: number; startMs: number; endMs: number; status: string; transcript: string; translation: string; serviceTimings: Record<string, number>; roundTripMs: number; speechMs: number }[];
      output: { file: string; durationMs: number };
    };
    expect(report).toMatchObject({ ok: true, sessionId: expect.stringMatching(/^s-[0-9A-F]{8}$/), input: { file: '-' } });
    const inputMs = (readWav(fixture.wav).samples.length + readWav(second.wav).samples.length) / 16 + pauseMs;
    expect(Math.abs(report.input.durationMs - inputMs)).toBeLessThanOrEqual(1);
    // Cut in the pause between the two sentences.
    expect(report.utterances.map((u) => [u.index, u.status])).toEqual([[0, 'result'], [1, 'result']]);
    const firstEndMs = readWav(fixture.wav).samples.length / 16;
    expect(report.utterances[0]!.endMs).toBeGreaterThan(firstEndMs - 200);
    expect(report.utterances[1]!.startMs).toBeLessThan(firstEndMs + pauseMs + 200);
    expect(report.utterances[0]!.endMs).toBeLessThanOrEqual(report.utterances[1]!.startMs);
    for (const [u, f] of [[report.utterances[0]!, fixture], [report.utterances[1]!, second]] as const) {
      expect(wordErrorRate([{ reference: f.text, hypothesis: u.transcript }]).wer, u.transcript).toBeLessThanOrEqual(0.25);
      expect(words(u.translation).length).toBeGreaterThan(0);
      expect(u.translation).not.toBe(u.transcript);
      expect(u.serviceTimings).toMatchObject({ asr_ms: expect.any(Number), nmt_ms: expect.any(Number), tts_ms: expect.any(Number), total_ms: expect.any(Number) });
      expect(u.roundTripMs).toBeGreaterThan(0);
      expect(u.speechMs).toBeGreaterThan(500);
    }
    expectSpanish(report.utterances[0]!.translation);
    // Both utterances' speech, in order, 300 ms apart, in one WAV.
    expect(report.output.file).toBe(out);
    const writtenMs = (readWav(readFileSync(out)).samples.length * 1000) / 16_000;
    expect(Math.abs(writtenMs - report.output.durationMs)).toBeLessThanOrEqual(1);
    expect(Math.abs(writtenMs - (report.utterances[0]!.speechMs + 300 + report.utterances[1]!.speechMs))).toBeLessThanOrEqual(2);
  });

  it('no node for the pair → NO_AVAILABLE_NODE, exit code 1', async () => {
    const run = await runCli(['translate', join('test/fixtures/speech', fixture.file), '--from', 'en', '--to', 'fr', '--json', '--scheduler', schedulerUrl], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('linguamesh translate: NO_AVAILABLE_NODE: utterance 1: No available node for en:fr');
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'NO_AVAILABLE_NODE' }, utterances: [{ index: 0, status: 'failed', error: { code: 'NO_AVAILABLE_NODE' } }] });
  });

  it('a file that is not a WAV → AUDIO_DECODE_FAILED, exit code 2; an unreachable scheduler → SCHEDULER_UNREACHABLE, exit code 3 (the command function, in process)', async () => {
    const captured = () => {
      const out = { stdout: '', stderr: '' };
      return { out, sink: { stdout: (text: string) => void (out.stdout += text), stderr: (text: string) => void (out.stderr += text) } };
    };
    const flags = { ...DEFAULT_TRANSLATE_FLAGS, from: 'en', to: 'es', scheduler: schedulerUrl, format: 'opus' as const };
    const notWav = join(workDir, 'notes.wav');
    writeFileSync(notWav, 'these are not samples');
    const bad = captured();
    expect(await runTranslate(notWav, flags, bad.sink)).toBe(2);
    expect(bad.out.stderr).toMatch(/^linguamesh translate: AUDIO_DECODE_FAILED: /);
    const nobody = `ws://127.0.0.1:${await freePort()}`;
    const closed = captured();
    expect(await runTranslate(join('test/fixtures/speech', fixture.file), { ...flags, scheduler: nobody, json: true }, closed.sink)).toBe(3);
    expect(closed.out.stderr).toContain(`linguamesh translate: SCHEDULER_UNREACHABLE: cannot reach the scheduler at ${nobody}/ws/session`);
    expect(JSON.parse(closed.out.stdout)).toMatchObject({ ok: false, error: { code: 'SCHEDULER_UNREACHABLE' } });
  });
});
