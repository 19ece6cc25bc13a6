/**
 * `linguamesh translate <file.wav|->`: translates a recording through a scheduler, as a session
 * client (PROTOCOL.md §6). Prints each utterance's transcript, translation and timings (or one
 * JSON object with `--json`) and writes the synthesized speech as one WAV to `--out`. What it runs
 * is in src/cli/translate.action.ts, loaded when it runs.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SESSION_CLIENT_OPTIONS } from '../adapters/session-client.defaults.js';
import { normalizeLanguage } from '../protocol/language.js';
import { positiveIntFlag } from './flag-values.js';

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
    .option('--max-utterance-ms <ms>', 'longest utterance sent; longer speech is cut at pauses', positiveIntFlag, DEFAULT_TRANSLATE_FLAGS.maxUtteranceMs)
    .option('--result-timeout-ms <ms>', 'give up on results after this long without a word from the scheduler', positiveIntFlag, DEFAULT_TRANSLATE_FLAGS.resultTimeoutMs)
    .option('--log-level <level>', 'pino log level of the client\'s own logs (on stderr)', DEFAULT_TRANSLATE_FLAGS.logLevel)
    .action(async (input: string, flags: TranslateFlags) => {
      const { runTranslate } = await import('./translate.action.js');
      process.exitCode = await runTranslate(input, { ...flags, authToken: flags.authToken ?? process.env.LINGUAMESH_AUTH_TOKEN });
    });
}
