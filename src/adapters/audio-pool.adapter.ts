/**
 * The audio port on a Piscina pool of worker threads (ARCHITECTURE.md `audio`, STYLE.md §9). This
 * adapter owns the pool: it moves buffers to the workers, bounds the work in flight, turns every
 * failure into a KernelError, and shuts the pool down within a bound.
 *
 * Loading the TypeScript worker: the node runs its sources through tsx, registered either with
 * `--import tsx` (tests, `npx tsx`) or at runtime by `bin/linguamesh.js` (`register()`, which
 * worker threads do not inherit), and vitest loads `.ts` through its own transform, which worker
 * threads do not get either. So the pool gives the workers an `execArgv` of just the tsx loader
 * (`--import <absolute URL of tsx's loader>`, so the cwd does not matter) whenever its worker entry
 * is a `.ts` file; a build that ships `.js` files loads `audio.worker.js` with the default execArgv.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { sleep } from '../kernel/clock.js';
import type { Clock } from '../kernel/clock.js';
import { AbortedError, KernelError } from '../kernel/errors.js';
import type { Logger } from '../kernel/logger.js';
import { AUDIO_ERROR_CODES, PCM_SAMPLE_RATE } from '../kernel/ports/audio.port.js';
import type {
  AudioPort,
  AudioWarning,
  DecodedAudio,
  DetectSpeechRequest,
  EncodedAudio,
  EncodedSpeech,
  EncodeRequest,
  PreparedAudio,
  PrepareRequest,
  SpeechAudio,
} from '../kernel/ports/audio.port.js';
import type { AudioReplies, AudioTask, AudioTaskOp, AudioTaskResult, AudioWorkerConfig } from './audio-worker.types.js';
import { resolveAudioPoolOptions } from './audio-pool.options.js';
import type { AudioPoolOptions } from './audio-pool.options.js';

export { DEFAULT_AUDIO_POOL_OPTIONS } from './audio-pool.options.js';
export type { AudioPoolOptions } from './audio-pool.options.js';

export interface AudioPoolDeps {
  logger: Logger;
  /** Runs the close timeout. */
  clock: Clock;
}

export interface AudioPool extends AudioPort {
  /** Worker threads in the pool. */
  readonly threads: number;
  /** Tasks accepted and not yet settled (running or queued). */
  readonly inFlight: number;
}

type Movable = Uint8Array | Int16Array | Float32Array;

/**
 * A view that alone owns its ArrayBuffer, so moving that buffer detaches nothing else. A Buffer
 * cut from Node's shared allocation pool (any small `Buffer.from`) is copied instead of moved:
 * transferring the pool would detach every other Buffer in it.
 */
function owned<T extends Movable>(view: T): { view: T; transfer: ArrayBuffer[] } {
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) return { view, transfer: [buffer] };
  const copy = view.slice() as T;
  return { view: copy, transfer: [copy.buffer as ArrayBuffer] };
}

const durationOf = (samples: number) => Math.round((samples * 1000) / PCM_SAMPLE_RATE);

function workerEntry(): { filename: string; execArgv: string[] | undefined } {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const filename = new URL(`../../native/workers/audio.worker${ext}`, import.meta.url).href;
  if (ext === '.js') return { filename, execArgv: undefined };
  // Only the loader: an explicit execArgv replaces the inherited one, and passing the parent's on
  // would fail on process-wide flags a worker refuses (`--max-old-space-size`, `--title`).
  return { filename, execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] };
}

async function checkModel(path: string, sha256: string | null): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new KernelError('VAD_MODEL_MISSING', `Silero VAD model not readable at ${path}; run scripts/setup.sh`, { cause: error, details: { path } });
  }
  // A corrupt model aborts the whole process inside onnxruntime, so it never reaches a worker.
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== null && actual !== sha256) {
    throw new KernelError('VAD_MODEL_INVALID', `Silero VAD model at ${path} has sha256 ${actual}, expected ${sha256}`, { details: { path, actual, expected: sha256 } });
  }
}

function createPool(opts: AudioPoolOptions): Piscina<AudioTask, AudioTaskResult> {
  const entry = workerEntry();
  const workerData: AudioWorkerConfig = {
    vadModelPath: opts.vadModelPath,
    vadThreshold: opts.vadThreshold,
    vadMinSilenceMs: opts.vadMinSilenceMs,
    vadMinSpeechMs: opts.vadMinSpeechMs,
    speechPadBeforeMs: opts.speechPadBeforeMs,
    speechPadAfterMs: opts.speechPadAfterMs,
    opusBitrateBps: opts.opusBitrateBps,
    opusComplexity: opts.opusComplexity,
  };
  return new Piscina<AudioTask, AudioTaskResult>({
    filename: opts.workerFilename ?? entry.filename,
    ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    minThreads: opts.maxThreads,
    maxThreads: opts.maxThreads,
    // Our own count refuses work first (see `run`); this bound is never reached before it.
    maxQueue: opts.maxThreads + opts.maxQueue,
    workerData,
  });
}

/**
 * Checks the VAD model, starts the workers and waits until one has loaded it. Rejects with
 * INVALID_CONFIG, VAD_MODEL_MISSING, VAD_MODEL_INVALID or AUDIO_POOL_START_FAILED.
 */
export async function startAudioPool(options: Partial<AudioPoolOptions>, deps: AudioPoolDeps): Promise<AudioPool> {
  const opts = resolveAudioPoolOptions(options);
  await checkModel(opts.vadModelPath, opts.vadModelSha256);
  let pool: Piscina<AudioTask, AudioTaskResult>;
  try {
    pool = createPool(opts);
  } catch (error) {
    throw new KernelError('AUDIO_POOL_START_FAILED', 'the audio workers could not be created', { cause: error });
  }
  const log = deps.logger.child({ actor: 'audio' });
  // A worker that dies with no task in flight is reported here; unlistened, it would kill the process.
  pool.on('error', (err: unknown) => log.error({ err }, 'audio worker failed outside a task'));
  const adapter = new PiscinaAudioPool(pool, opts, deps.clock, log);
  try {
    await adapter.ping();
  } catch (error) {
    await pool.destroy();
    throw new KernelError('AUDIO_POOL_START_FAILED', 'the audio workers did not start', { cause: error });
  }
  return adapter;
}

class PiscinaAudioPool implements AudioPool {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | undefined;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly pool: Piscina<AudioTask, AudioTaskResult>,
    private readonly opts: AudioPoolOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  get threads(): number {
    return this.opts.maxThreads;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async ping(): Promise<void> {
    await this.run('ping', { op: 'ping' }, [], new AbortController().signal);
  }

  async decode(input: EncodedAudio, signal: AbortSignal): Promise<DecodedAudio> {
    const { view: bytes, transfer } = owned(input.bytes);
    const reply = await this.run('decode', { op: 'decode', bytes, format: input.format, sampleRate: input.sampleRate }, transfer, signal);
    this.logWarnings(input.format, reply.warnings);
    return { pcm: reply.pcm, sampleRate: PCM_SAMPLE_RATE, durationMs: durationOf(reply.pcm.length), warnings: reply.warnings };
  }

  async detectSpeech(input: DetectSpeechRequest, signal: AbortSignal): Promise<SpeechAudio> {
    const { view: pcm, transfer } = owned(input.pcm);
    const reply = await this.run('detectSpeech', { op: 'detectSpeech', pcm, paddingMs: this.paddingOf(input.paddingMs) }, transfer, signal);
    return this.speechOf(reply);
  }

  async prepare(input: PrepareRequest, signal: AbortSignal): Promise<PreparedAudio> {
    const { view: bytes, transfer } = owned(input.bytes);
    const task = { op: 'prepare', bytes, format: input.format, sampleRate: input.sampleRate, paddingMs: this.paddingOf(input.paddingMs) } as const;
    const reply = await this.run('prepare', task, transfer, signal);
    this.logWarnings(input.format, reply.warnings);
    return { ...this.speechOf(reply), warnings: reply.warnings };
  }

  async encode(input: EncodeRequest, signal: AbortSignal): Promise<EncodedSpeech> {
    const { audio } = input;
    let transfer: ArrayBuffer[];
    let source: Extract<AudioTask, { op: 'encode' }>['input'];
    if (audio.kind === 'wav') {
      const moved = owned(audio.bytes);
      source = { kind: 'wav', bytes: moved.view };
      transfer = moved.transfer;
    } else {
      const moved = owned(audio.samples);
      source = { kind: 'pcm', samples: moved.view, sampleRate: audio.sampleRate };
      transfer = moved.transfer;
    }
    const reply = await this.run('encode', { op: 'encode', format: input.format, input: source }, transfer, signal);
    return { bytes: reply.bytes, format: input.format, sampleRate: PCM_SAMPLE_RATE, durationMs: reply.durationMs };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    // Graceful first: running and queued tasks get closeTimeoutMs on the kernel clock, then the
    // threads are terminated (tasks still running reject with AUDIO_POOL_CLOSED). Piscina's own
    // close() is not used: its timeout runs on a real timer, out of reach of the test clock.
    const timeout = new AbortController();
    const drained = Promise.allSettled([...this.pending]).then(() => 'drained' as const);
    const expired = sleep(this.clock, this.opts.closeTimeoutMs, timeout.signal).then(() => 'expired' as const, () => 'drained' as const);
    const outcome = await Promise.race([drained, expired]);
    timeout.abort();
    if (outcome === 'expired') this.log.warn({ inFlight: this.pending.size, closeTimeoutMs: this.opts.closeTimeoutMs }, 'audio tasks still running at close; terminating workers');
    await this.pool.destroy();
    this.state = 'closed';
  }

  private async run<TOp extends AudioTaskOp>(op: TOp, task: AudioTask & { op: TOp }, transferList: ArrayBuffer[], signal: AbortSignal): Promise<AudioReplies[TOp]> {
    if (this.state !== 'open') throw new KernelError(AUDIO_ERROR_CODES.closed, 'the audio pool is closed');
    if (signal.aborted) throw new AbortedError('audio task aborted before it started', { cause: signal.reason });
    const limit = this.opts.maxThreads + this.opts.maxQueue;
    if (this.pending.size >= limit) {
      throw new KernelError(AUDIO_ERROR_CODES.overloaded, 'every audio worker is busy and the queue is full', {
        retryable: true,
        details: { inFlight: this.pending.size, limit },
      });
    }
    const running = this.pool.run(task, { transferList, signal });
    this.pending.add(running);
    let result: AudioTaskResult;
    try {
      result = await running;
    } catch (error) {
      throw this.translate(error, signal, op);
    } finally {
      this.pending.delete(running);
    }
    if (!result.ok) throw new KernelError(result.code, result.message, { details: result.details });
    return result.value as AudioReplies[TOp];
  }

  private translate(error: unknown, signal: AbortSignal, op: AudioTaskOp): KernelError {
    // Checked first: an aborted running task also terminates its thread, which must not read as a crash.
    if (signal.aborted) return new AbortedError(`audio ${op} aborted`, { cause: error });
    if (this.state !== 'open') return new KernelError(AUDIO_ERROR_CODES.closed, `audio ${op} stopped: the pool closed`, { cause: error });
    this.log.error({ err: error, op }, 'audio worker failed during a task');
    return new KernelError(AUDIO_ERROR_CODES.workerFailed, `audio worker failed during ${op}`, { retryable: true, cause: error, details: { op } });
  }

  private paddingOf(paddingMs: number | undefined): number {
    if (paddingMs === undefined || !Number.isFinite(paddingMs)) return 0;
    return Math.min(this.opts.maxPaddingMs, Math.max(0, Math.round(paddingMs)));
  }

  private speechOf(reply: AudioReplies['detectSpeech']): SpeechAudio {
    return {
      pcm: reply.pcm,
      sampleRate: PCM_SAMPLE_RATE,
      speech: reply.speech,
      segments: reply.segments,
      durationMs: durationOf(reply.pcm.length),
      inputDurationMs: durationOf(reply.inputSamples),
    };
  }

  private logWarnings(format: string, warnings: AudioWarning[]): void {
    if (warnings.length > 0) this.log.warn({ format, warnings }, 'audio input had records that were skipped');
  }
}
