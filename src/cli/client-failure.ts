/**
 * How the client commands (`translate`, `status`) end: one exit code per kind of failure, and the
 * failure shown once — `linguamesh <cmd>: CODE: message` on stderr, and with `--json` also as the
 * one JSON object on stdout, so a script reads the code without parsing text.
 */
import { isKernelError } from '../kernel/errors.js';

/** Exit codes of the client commands (docs/CLI.md lists them). */
export const CLIENT_EXIT_CODES = {
  ok: 0,
  /** The scheduler answered, but the work failed (NO_AVAILABLE_NODE, JOB_TIMEOUT, a bad answer). */
  failed: 1,
  /** The input is unusable: unreadable or not a WAV, no speech in it, a bad flag value. */
  badInput: 2,
  /** The scheduler could not be reached, or refused the token. */
  unreachable: 3,
} as const;

const BAD_INPUT_CODES: ReadonlySet<string> = new Set(['INPUT_UNREADABLE', 'AUDIO_DECODE_FAILED', 'NO_SPEECH', 'INVALID_ARGUMENT', 'OUTPUT_UNWRITABLE']);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['SCHEDULER_UNREACHABLE', 'UNAUTHORIZED']);

export interface ClientOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const PROCESS_OUTPUT: ClientOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export interface ClientFailure {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export function failureOf(err: unknown): ClientFailure {
  if (isKernelError(err)) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  return { code: 'INTERNAL_ERROR', message: err instanceof Error ? err.message : String(err) };
}

export function exitCodeOf(code: string): number {
  if (UNREACHABLE_CODES.has(code)) return CLIENT_EXIT_CODES.unreachable;
  if (BAD_INPUT_CODES.has(code)) return CLIENT_EXIT_CODES.badInput;
  return CLIENT_EXIT_CODES.failed;
}

/** Reports `failure` and returns the exit code; `extra` joins the JSON object (partial results). */
export function reportFailure(command: string, failure: ClientFailure, out: ClientOutput, json: boolean, extra: Record<string, unknown> = {}): number {
  out.stderr(`linguamesh ${command}: ${failure.code}: ${failure.message}\n`);
  if (json) out.stdout(`${JSON.stringify({ ok: false, ...extra, error: failure })}\n`);
  return exitCodeOf(failure.code);
}

/**
 * The scheduler's base URL in the scheme a client needs: `http` for the API, `ws` for the session
 * link. A bare `host:port` is accepted; `wss`/`https` map onto each other.
 */
export function schedulerUrl(value: string, want: 'http' | 'ws'): URL {
  const url = new URL(/^[a-z]+:\/\//i.test(value) ? value : `http://${value}`);
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  url.protocol = want === 'http' ? (secure ? 'https:' : 'http:') : secure ? 'wss:' : 'ws:';
  return url;
}
