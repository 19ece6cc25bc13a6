/**
 * `linguamesh up --demo`: one session over `/ws/session`, as a real client, with the bundled speech
 * fixtures (test/fixtures/speech: WAV files and `fixtures.json` with what each one says). Every
 * fixture goes in as a whole `utterance`, English to Spanish, with WAV speech asked back; per
 * utterance it prints the reference, the transcript, the translation, the stage timings the node
 * measured (`extra.service_timings`) and where the synthesized WAV was written.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { openSession } from '../adapters/session-ws-client.adapter.js';
import type { UtteranceOutcome } from '../adapters/session-ws-client.adapter.js';
import { toKernelError } from '../kernel/errors.js';
import type { ServiceTimings } from '../protocol/index.js';
import { wavToPcm16 } from '../protocol/wav.js';

/** The bundled fixtures. */
export const DEMO_FIXTURES_DIR = resolve(import.meta.dirname, '../../test/fixtures/speech');

export interface DemoOptions {
  /** `ws://…/ws/session` of the scheduler. */
  sessionUrl: string;
  /** Where the synthesized WAVs go. */
  outDir: string;
  fixturesDir?: string;
  /** Longest wait for all the answers, in ms. */
  timeoutMs?: number;
  /** Utterances in flight at once. Default 2. */
  window?: number;
  /** Where the report lines go (stdout for the CLI). */
  print: (line: string) => void;
}

export interface DemoUtterance {
  file: string;
  reference: string;
  transcript: string;
  translation: string;
  timings: ServiceTimings | undefined;
  /** From sending the utterance to its result, in ms. */
  roundTripMs: number;
  wavPath: string;
  speechMs: number;
}

export interface DemoReport {
  utterances: DemoUtterance[];
  /** One line per utterance that did not come back as a translation. */
  failures: string[];
}

const DEFAULT_TIMEOUT_MS = 180_000;
const DEFAULT_WINDOW = 2;

interface Fixture {
  file: string;
  text: string;
  wav: Buffer;
  sampleRate: number;
}

async function loadFixtures(dir: string): Promise<Fixture[]> {
  const list = JSON.parse(await readFile(join(dir, 'fixtures.json'), 'utf8')) as { file: string; text: string }[];
  return Promise.all(
    list.map(async ({ file, text }) => {
      const wav = await readFile(join(dir, file));
      const read = wavToPcm16(wav);
      if (!read.ok) throw new Error(`fixture ${file}: ${read.reason}`);
      return { file, text, wav, sampleRate: read.value.sampleRate };
    }),
  );
}

function formatTimings(timings: ServiceTimings | undefined, roundTripMs: number): string {
  const stage = (name: string, ms: number | undefined) => (ms === undefined ? [] : [`${name} ${ms} ms`]);
  const stages = timings ? [...stage('asr', timings.asr_ms), ...stage('nmt', timings.nmt_ms), ...stage('tts', timings.tts_ms), ...stage('node total', timings.total_ms)] : ['none reported'];
  return [...stages, `round trip ${roundTripMs} ms`].join(' · ');
}

/** Duration of a WAV, in ms; undefined when it is not one. */
export function wavDurationMs(bytes: Uint8Array): number | undefined {
  const read = wavToPcm16(bytes);
  return read.ok ? Math.round((read.value.pcm.byteLength / 2 / read.value.sampleRate) * 1000) : undefined;
}

function failureOf(outcome: UtteranceOutcome): string | undefined {
  if (outcome.kind === 'missing') return `no result: ${outcome.missing.reason}`;
  if (outcome.kind === 'error') return `${outcome.error.code}: ${outcome.error.message}`;
  if (outcome.result.text_asr.trim() === '') return 'empty transcript';
  if (outcome.result.text_translated.trim() === '') return 'empty translation';
  if (outcome.result.tts_audio === '') return 'no speech';
  return undefined;
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const fixturesDir = options.fixturesDir ?? DEMO_FIXTURES_DIR;
  const fixtures = await loadFixtures(fixturesDir);
  await mkdir(options.outDir, { recursive: true });
  const print = options.print;
  const started = Date.now();
  const session = await openSession({ url: options.sessionUrl, srcLang: 'en', tgtLang: 'es', ttsFormat: 'wav', clientVersion: 'linguamesh-up-demo', openTimeoutMs: 10_000 });
  const deadline = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const report: DemoReport = { utterances: [], failures: [] };
  try {
    print(`demo: ${fixtures.length} utterances from ${fixturesDir}, en → es, session ${session.sessionId}`);
    const sentAt: number[] = [];
    const send = (index: number) => {
      const fixture = fixtures[index];
      if (!fixture) return;
      sentAt[index] = Date.now();
      session.sendUtterance(index, fixture.wav, 'wav', fixture.sampleRate);
    };
    // A bounded window: a node takes `max_concurrent_jobs` at once, and a job that finds every
    // node full waits only `noNodeTimeoutMs` (10 s) before it fails with NO_AVAILABLE_NODE.
    const window = options.window ?? DEFAULT_WINDOW;
    for (let index = 0; index < Math.min(window, fixtures.length); index++) send(index);
    for (const [index, fixture] of fixtures.entries()) {
      const head = `[${index + 1}/${fixtures.length}] ${fixture.file}`;
      let outcome: UtteranceOutcome;
      try {
        outcome = await session.outcome(index, deadline);
      } catch (err) {
        const failure = `${head}: no answer (${toKernelError(err).message})`;
        report.failures.push(failure);
        print(failure);
        continue;
      } finally {
        send(index + window);
      }
      const failure = failureOf(outcome);
      if (failure !== undefined || outcome.kind !== 'result') {
        report.failures.push(`${head}: ${failure ?? 'failed'}`);
        print(`${head}: ${failure ?? 'failed'}`);
        continue;
      }
      const result = outcome.result;
      const speech = Buffer.from(result.tts_audio, 'base64');
      const wavPath = join(options.outDir, `${basename(fixture.file, '.wav')}.es.wav`);
      await writeFile(wavPath, speech);
      const utterance: DemoUtterance = {
        file: fixture.file,
        reference: fixture.text,
        transcript: result.text_asr,
        translation: result.text_translated,
        timings: result.service_timings ?? result.extra?.service_timings ?? undefined,
        roundTripMs: outcome.receivedAtMs - (sentAt[index] ?? started),
        wavPath,
        speechMs: wavDurationMs(speech) ?? 0,
      };
      report.utterances.push(utterance);
      print(head);
      print(`  reference    ${utterance.reference}`);
      print(`  transcript   ${utterance.transcript}`);
      print(`  translation  ${utterance.translation}`);
      print(`  timings      ${formatTimings(utterance.timings, utterance.roundTripMs)}`);
      print(`  speech       ${wavPath} (${(utterance.speechMs / 1000).toFixed(2)} s, ${result.tts_format})`);
    }
  } finally {
    await session.close();
  }
  print(`demo: ${report.utterances.length}/${fixtures.length} utterances came back in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return report;
}
