/**
 * What `linguamesh translate` does, start to end: read a WAV (a file or stdin), decode and
 * resample it to 16 kHz mono on the audio pool, find the speech with the same VAD the node uses
 * and cut it into utterances, encode each in the session's format, send them over one session,
 * and turn what comes back into a report and one WAV of synthesized speech.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../adapters/atomic-file.adapter.js';
import { openSession } from '../adapters/session-client-ws.adapter.js';
import type { OutgoingUtterance, SessionClientOptions, UtteranceOutcome } from '../adapters/session-client-ws.adapter.js';
import { KernelError } from '../kernel/errors.js';
import type { AudioPort } from '../kernel/ports/audio.port.js';
import { parseAudioFormat, PCM_SAMPLE_RATE } from '../kernel/ports/audio.port.js';
import type { ServiceTimings } from '../protocol/node-jobs.schema.js';
import { cutUtterances } from './utterance-cuts.js';
import type { UtteranceSpan } from './utterance-cuts.js';

export interface TranslateRequest {
  /** A WAV file path, or `-` for stdin. */
  input: string;
  from: string;
  to: string;
  /** Where the synthesized speech goes as WAV; none: not written. */
  out?: string | undefined;
  /** Audio on the wire, both ways. */
  format: 'opus' | 'pcm16';
  /** Longest utterance sent, in ms. */
  maxUtteranceMs: number;
  /** Silence put between two utterances' speech in the output WAV, in ms. */
  gapMs: number;
  session: SessionClientOptions;
}

export interface TranslatedUtterance {
  index: number;
  /** Where the utterance lies in the input, in ms. */
  startMs: number;
  endMs: number;
  status: UtteranceOutcome['kind'];
  transcript?: string;
  translation?: string;
  serviceTimings?: ServiceTimings | undefined;
  /** From sending the utterance to its result, in ms. */
  roundTripMs?: number;
  /** Length of its synthesized speech, in ms. */
  speechMs?: number;
  /** `missing_result.reason`. */
  reason?: string;
  error?: { code: string; message: string; details?: Record<string, unknown> | undefined };
}

export interface TranslateReport {
  scheduler: string;
  sessionId: string;
  traceId: string;
  from: string;
  to: string;
  input: { file: string; durationMs: number };
  utterances: TranslatedUtterance[];
  /** The WAV written, when `out` was given. */
  output?: { file: string; durationMs: number };
}

async function readInput(input: string): Promise<Buffer> {
  try {
    if (input !== '-') return await readFile(input);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    throw new KernelError('INPUT_UNREADABLE', `cannot read ${input === '-' ? 'stdin' : input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, details: { file: input } });
  }
}

/** A copy: the audio port moves the buffers it is given. */
const copyOf = (pcm: Int16Array, from = 0, to = pcm.length) => pcm.slice(from, to);
const sampleAt = (ms: number) => Math.round((ms * PCM_SAMPLE_RATE) / 1000);

async function encodeUtterances(audio: AudioPort, pcm: Int16Array, spans: UtteranceSpan[], format: 'opus' | 'pcm16', signal: AbortSignal): Promise<OutgoingUtterance[]> {
  const encoded: OutgoingUtterance[] = [];
  for (const span of spans) {
    const samples = copyOf(pcm, sampleAt(span.startMs), sampleAt(span.endMs));
    const bytes = format === 'pcm16' ? Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) : Buffer.from((await audio.encode({ audio: { kind: 'pcm', samples, sampleRate: PCM_SAMPLE_RATE }, format: 'opus' }, signal)).bytes);
    encoded.push({ audioBase64: bytes.toString('base64'), format, sampleRate: PCM_SAMPLE_RATE });
  }
  return encoded;
}

/** The speech of one result as 16 kHz pcm16, or nothing when there is none (or it is unreadable). */
async function speechOf(audio: AudioPort, outcome: UtteranceOutcome, signal: AbortSignal): Promise<Int16Array | undefined> {
  if (outcome.kind !== 'result' || outcome.result.tts_audio === '') return undefined;
  const format = parseAudioFormat(outcome.result.tts_format);
  if (!format) return undefined;
  const bytes = Buffer.from(outcome.result.tts_audio, 'base64');
  return (await audio.decode({ bytes: new Uint8Array(bytes), format, sampleRate: PCM_SAMPLE_RATE }, signal)).pcm;
}

function describe(outcome: UtteranceOutcome, span: UtteranceSpan, speech: Int16Array | undefined): TranslatedUtterance {
  const base = { index: outcome.index, startMs: span.startMs, endMs: span.endMs, status: outcome.kind };
  switch (outcome.kind) {
    case 'result':
      return {
        ...base,
        transcript: outcome.result.text_asr,
        translation: outcome.result.text_translated,
        serviceTimings: outcome.result.service_timings,
        roundTripMs: outcome.roundTripMs,
        speechMs: speech ? Math.round((speech.length * 1000) / PCM_SAMPLE_RATE) : 0,
      };
    case 'missing':
      return { ...base, reason: outcome.reason };
    case 'failed':
      return { ...base, error: outcome.error };
    case 'empty':
    case 'timedOut':
      return base;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

/**
 * Runs one translation. Rejects with INPUT_UNREADABLE, AUDIO_DECODE_FAILED (not a usable WAV),
 * NO_SPEECH, SCHEDULER_UNREACHABLE, UNAUTHORIZED, OUTPUT_UNWRITABLE, or a scheduler error; a
 * failed utterance does not reject: it is in the report.
 */
export async function runTranslation(request: TranslateRequest, audio: AudioPort, signal: AbortSignal): Promise<TranslateReport> {
  const wav = await readInput(request.input);
  const decoded = await audio.decode({ bytes: new Uint8Array(wav), format: 'wav', sampleRate: PCM_SAMPLE_RATE }, signal);
  const found = await audio.detectSpeech({ pcm: copyOf(decoded.pcm) }, signal);
  const spans = found.speech ? cutUtterances(found.segments, decoded.durationMs, request.maxUtteranceMs) : [];
  if (spans.length === 0) throw new KernelError('NO_SPEECH', `no speech found in ${request.input === '-' ? 'stdin' : request.input} (${decoded.durationMs} ms of audio)`, { details: { durationMs: decoded.durationMs } });
  const utterances = await encodeUtterances(audio, decoded.pcm, spans, request.format, signal);

  const session = await openSession(
    request.session,
    { client_version: 'linguamesh-cli/0.1.0', platform: 'cli', src_lang: request.from, tgt_lang: request.to, audio_format: request.format, tts_format: request.format, enable_streaming_asr: false },
    signal,
  );
  let outcomes: UtteranceOutcome[];
  try {
    outcomes = await session.translate(utterances, signal);
  } finally {
    await session.close();
  }

  const speeches = await Promise.all(outcomes.map((o) => speechOf(audio, o, signal)));
  const report: TranslateReport = {
    scheduler: request.session.url.replace(/\/$/, ''),
    sessionId: session.ack.session_id,
    traceId: session.ack.trace_id,
    from: request.from,
    to: request.to,
    input: { file: request.input, durationMs: decoded.durationMs },
    utterances: outcomes.map((o, i) => describe(o, spans[i]!, speeches[i])),
  };
  if (request.out !== undefined) {
    const durationMs = await writeSpeech(audio, request.out, speeches, request.gapMs, signal);
    if (durationMs !== undefined) report.output = { file: request.out, durationMs };
  }
  return report;
}

/**
 * Writes the utterances' speech, in order, `gapMs` apart, as one 16 kHz mono WAV; resolves its
 * length in ms, or undefined (nothing written) when no speech came back.
 */
async function writeSpeech(audio: AudioPort, file: string, speeches: (Int16Array | undefined)[], gapMs: number, signal: AbortSignal): Promise<number | undefined> {
  const parts = speeches.filter((s): s is Int16Array => s !== undefined && s.length > 0);
  if (parts.length === 0) return undefined;
  const gap = sampleAt(gapMs);
  const joined = new Int16Array(parts.reduce((n, p) => n + p.length, 0) + gap * Math.max(0, parts.length - 1));
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length + gap;
  }
  const encoded = await audio.encode({ audio: { kind: 'pcm', samples: joined, sampleRate: PCM_SAMPLE_RATE }, format: 'wav' }, signal);
  try {
    await writeFileAtomically(file, encoded.bytes);
  } catch (err) {
    throw new KernelError('OUTPUT_UNWRITABLE', `cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err, details: { file } });
  }
  return encoded.durationMs;
}
