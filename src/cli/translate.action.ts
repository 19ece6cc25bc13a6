/**
 * What `linguamesh translate` runs (its flags: src/cli/translate.command.ts): one session with a
 * scheduler that translates a recording, printed per utterance (or as one JSON object), with the
 * synthesized speech written as one WAV.
 */
import { startAudioPool } from '../adapters/audio-pool.adapter.js';
import type { AudioPool } from '../adapters/audio-pool.adapter.js';
import { DEFAULT_SESSION_CLIENT_OPTIONS } from '../adapters/session-client.defaults.js';
import { systemClock } from '../kernel/clock.js';
import { createLogger } from '../kernel/logger.js';
import { CLIENT_EXIT_CODES, failureOf, PROCESS_OUTPUT, reportFailure, schedulerUrl } from './client-failure.js';
import type { ClientOutput } from './client-failure.js';
import type { TranslateFlags } from './translate.command.js';
import { runTranslation } from './translate-run.js';
import type { TranslatedUtterance, TranslateReport } from './translate-run.js';

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
