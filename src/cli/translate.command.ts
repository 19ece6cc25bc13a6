/**
 * `linguamesh translate <file.wav|->`: translates a recording through a scheduler, as a session
 * client (PROTOCOL.md §6). Prints each utterance's transcript, translation and timings (or one
 * JSON object with `--json`) and writes the synthesized speech as one WAV to `--out`.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { startAudioPool } from '../adapters/audio-pool.adapter.js';
import type { AudioPool } from '../adapters/audio-pool.adapter.js';
import { DEFAULT_SESSION_CLIENT_OPTIONS } from '../adapters/session-client-ws.adapter.js';
import { systemClock } from '../kernel/clock.js';
import { createLogger } from '../kernel/logger.js';
import { normalizeLanguage } from '../protocol/language.js';
import { CLIENT_EXIT_CODES, failureOf, PROCESS_OUTPUT, reportFailure, schedulerUrl } from './client-failure.js';
import type { ClientOutput } from './client-failure.js';
import { runTranslation } from './translate-run.js';
import type { TranslatedUtterance, TranslateReport } from './translate-run.js';

export interface TranslateFlags {
  from: string;
  to: string;
  out?: string | undefined;
  /** Scheduler URL (`ws://host:port`; `http://` and a bare `host:port` are accepted). */
  scheduler: string;
  authToken?: string | undefined;
  format: 'opus' | 'pcm16';
  json: boolean;
  /** Longest utterance sent, in ms. */
  maxUtteranceMs: number;
  /** Longest silence from the scheduler while results are due, in ms. */
  resultTimeoutMs: number;
  logLevel: string;
}

export const DEFAULT_TRANSLATE_FLAGS = {
  scheduler: 'ws://127.0.0.1:5010',
  format: 'opus',
  json: false,
  maxUtteranceMs: 10_000,
  resultTimeoutMs: DEFAULT_SESSION_CLIENT_OPTIONS.resultTimeoutMs,
  logLevel: 'warn',
} satisfies Partial<TranslateFlags>;

/** Silence between two utterances' speech in the output WAV, in ms. */
const OUTPUT_GAP_MS = 300;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function timingsLine(u: TranslatedUtterance): string {
  const t = u.serviceTimings;
  const parts: string[] = [];
  if (t?.asr_ms !== undefined) parts.push(`asr ${t.asr_ms} ms`);
  if (t?.nmt_ms !== undefined) parts.push(`nmt ${t.nmt_ms} ms`);
  if (t?.tts_ms !== undefined) parts.push(`tts ${t.tts_ms} ms`);
  if (t?.total_ms !== undefined) parts.push(`node total ${t.total_ms} ms`);
  if (u.roundTripMs !== undefined) parts.push(`round trip ${u.roundTripMs} ms`);
  if (u.speechMs !== undefined) parts.push(`speech ${seconds(u.speechMs)}`);
  return parts.join(' · ');
}

function renderUtterance(u: TranslatedUtterance, count: number, report: TranslateReport): string {
  let text = `[${u.index + 1}/${count}] ${seconds(u.startMs)}–${seconds(u.endMs)}\n`;
  switch (u.status) {
    case 'result':
      text += `  ${report.from}: ${u.transcript ?? ''}\n  ${report.to}: ${u.translation ?? ''}\n  timings: ${timingsLine(u)}\n`;
      break;
    case 'missing':
      text += `  no result: ${u.reason ?? 'missing'}\n`;
      break;
    case 'empty':
      text += '  no speech recognized\n';
      break;
    case 'failed':
      text += `  failed: ${u.error?.code ?? ''}: ${u.error?.message ?? ''}\n`;
      break;
    case 'timedOut':
      text += '  no result: the scheduler went quiet (--result-timeout-ms)\n';
      break;
  }
  return text;
}

function renderReport(report: TranslateReport, out: string | undefined): string {
  const count = report.utterances.length;
  let text = `translating ${report.input.file === '-' ? 'stdin' : report.input.file} (${seconds(report.input.durationMs)}, ${count} utterance${count === 1 ? '' : 's'}) ${report.from} → ${report.to} via ${report.scheduler} (session ${report.sessionId})\n`;
  for (const u of report.utterances) text += renderUtterance(u, count, report);
  if (report.output) text += `wrote ${report.output.file}: ${seconds(report.output.durationMs)} of speech (16 kHz mono WAV)\n`;
  else if (out !== undefined) text += `no speech came back: ${out} not written\n`;
  return text;
}

/** The first utterance that did not come back, as the run's failure. */
function firstFailure(report: TranslateReport): { code: string; message: string; details?: Record<string, unknown> } | undefined {
  for (const u of report.utterances) {
    if (u.status === 'failed' && u.error) return { code: u.error.code, message: `utterance ${u.index + 1}: ${u.error.message}`, ...(u.error.details ? { details: u.error.details } : {}) };
    if (u.status === 'timedOut') return { code: 'RESULT_TIMEOUT', message: `utterance ${u.index + 1}: no result before the scheduler went quiet for --result-timeout-ms` };
  }
  return undefined;
}

/** Translates `input` and prints the outcome; resolves the exit code. */
export async function runTranslate(input: string, flags: TranslateFlags, out: ClientOutput = PROCESS_OUTPUT, signal: AbortSignal = new AbortController().signal): Promise<number> {
  let url: URL;
  try {
    url = schedulerUrl(flags.scheduler, 'ws');
  } catch {
    return reportFailure('translate', { code: 'INVALID_ARGUMENT', message: `--scheduler: not a URL: ${flags.scheduler}` }, out, flags.json);
  }
  const logger = createLogger({ level: flags.logLevel, format: 'json', destination: process.stderr });
  let audio: AudioPool | undefined;
  try {
    audio = await startAudioPool({ maxThreads: 1 }, { logger, clock: systemClock });
    const report = await runTranslation(
      {
        input,
        from: flags.from,
        to: flags.to,
        out: flags.out,
        format: flags.format,
        maxUtteranceMs: flags.maxUtteranceMs,
        gapMs: OUTPUT_GAP_MS,
        session: { ...DEFAULT_SESSION_CLIENT_OPTIONS, url: url.href, authToken: flags.authToken, resultTimeoutMs: flags.resultTimeoutMs, clock: systemClock },
      },
      audio,
      signal,
    );
    const failure = firstFailure(report);
    if (failure) {
      if (!flags.json) out.stdout(renderReport(report, flags.out));
      return reportFailure('translate', failure, out, flags.json, { ...report });
    }
    out.stdout(flags.json ? `${JSON.stringify({ ok: true, ...report })}\n` : renderReport(report, flags.out));
    return CLIENT_EXIT_CODES.ok;
  } catch (err) {
    return reportFailure('translate', failureOf(err), out, flags.json, { scheduler: url.href });
  } finally {
    await audio?.close();
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function language(value: string): string {
  const code = normalizeLanguage(value);
  if (!/^[a-z]{2,3}$/.test(code)) throw new InvalidArgumentError('must be a language code such as en or es');
  return code;
}

export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description('translate a WAV recording through a scheduler: print transcript, translation and timings, write the speech')
    .argument('<input>', 'WAV file (16-bit PCM, any rate and channel count), or - to read it from stdin')
    .requiredOption('--from <lang>', 'language spoken in the recording', language)
    .requiredOption('--to <lang>', 'language to translate into', language)
    .option('--out <file>', 'write the synthesized speech here as a 16 kHz mono WAV')
    .option('--scheduler <url>', 'scheduler URL', DEFAULT_TRANSLATE_FLAGS.scheduler)
    .option('--auth-token <token>', 'the scheduler\'s shared secret (or LINGUAMESH_AUTH_TOKEN)')
    .addOption(new Option('--format <format>', 'audio format on the wire, both ways').choices(['opus', 'pcm16']).default(DEFAULT_TRANSLATE_FLAGS.format))
    .option('--json', 'print one JSON object instead of text', false)
    .option('--max-utterance-ms <ms>', 'longest utterance sent; longer speech is cut at pauses', positiveInt, DEFAULT_TRANSLATE_FLAGS.maxUtteranceMs)
    .option('--result-timeout-ms <ms>', 'give up on results after this long without a word from the scheduler', positiveInt, DEFAULT_TRANSLATE_FLAGS.resultTimeoutMs)
    .option('--log-level <level>', 'pino log level of the client\'s own logs (on stderr)', DEFAULT_TRANSLATE_FLAGS.logLevel)
    .action(async (input: string, flags: TranslateFlags) => {
      process.exitCode = await runTranslate(input, { ...flags, authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN });
    });
}
