/**
 * An AudioPort that decodes nothing: `prepare` answers speech (or silence, when told) as 16 kHz
 * pcm16 of a set length, `encode` answers bytes that name the format. Tasks can be made to hang
 * until aborted, or to fail with a code; every task's signal is recorded.
 */
import { AbortedError, KernelError } from '../../src/kernel/errors.js';
import { AUDIO_ERROR_CODES, PCM_SAMPLE_RATE } from '../../src/kernel/ports/audio.port.js';
import type {
  AudioPort,
  DecodedAudio,
  DetectSpeechRequest,
  EncodedAudio,
  EncodedSpeech,
  EncodeRequest,
  PreparedAudio,
  PrepareRequest,
  SpeechAudio,
} from '../../src/kernel/ports/audio.port.js';

/** `failWith` fails every task, or the next `times` tasks only. */
export type AudioBehaviour = 'ok' | 'hang' | { failWith: string; times?: number };

export interface FakeAudioTask {
  op: 'prepare' | 'encode';
  signal: AbortSignal;
  input: PrepareRequest | EncodeRequest;
}

export class FakeAudio implements AudioPort {
  /** Whether `prepare` finds speech. */
  speech = true;
  /** Length of the prepared speech, in ms. */
  speechMs = 1_500;
  prepareBehaviour: AudioBehaviour = 'ok';
  encodeBehaviour: AudioBehaviour = 'ok';
  readonly tasks: FakeAudioTask[] = [];
  closed = false;

  async decode(_input: EncodedAudio, _signal: AbortSignal): Promise<DecodedAudio> {
    return { pcm: new Int16Array(16 * this.speechMs), sampleRate: PCM_SAMPLE_RATE, durationMs: this.speechMs, warnings: [] };
  }

  async detectSpeech(input: DetectSpeechRequest, _signal: AbortSignal): Promise<SpeechAudio> {
    const durationMs = Math.round(input.pcm.length / 16);
    return { pcm: input.pcm, sampleRate: PCM_SAMPLE_RATE, speech: this.speech, segments: [], durationMs, inputDurationMs: durationMs };
  }

  async prepare(input: PrepareRequest, signal: AbortSignal): Promise<PreparedAudio> {
    await this.behave({ op: 'prepare', signal, input });
    const durationMs = this.speech ? this.speechMs + (input.paddingMs ?? 0) : 0;
    const pcm = new Int16Array(16 * durationMs).fill(this.speech ? 1_000 : 0);
    return { pcm, sampleRate: PCM_SAMPLE_RATE, speech: this.speech, segments: this.speech ? [{ startMs: 0, endMs: this.speechMs }] : [], durationMs, inputDurationMs: this.speechMs, warnings: [] };
  }

  async encode(input: EncodeRequest, signal: AbortSignal): Promise<EncodedSpeech> {
    await this.behave({ op: 'encode', signal, input });
    return { bytes: new TextEncoder().encode(`${input.format}-speech`), format: input.format, sampleRate: PCM_SAMPLE_RATE, durationMs: 1_000 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Runs the behaviour set for `task.op`; a `failWith` with `times` counts down to `ok`. */
  private async behave(task: FakeAudioTask): Promise<void> {
    this.tasks.push(task);
    const behaviour = task.op === 'prepare' ? this.prepareBehaviour : this.encodeBehaviour;
    if (behaviour === 'ok') return;
    if (behaviour === 'hang') {
      await new Promise<never>((_, reject) => {
        const abort = () => reject(new AbortedError(`audio ${task.op} aborted`));
        if (task.signal.aborted) abort();
        else task.signal.addEventListener('abort', abort, { once: true });
      });
      return;
    }
    if (behaviour.times !== undefined) {
      const next: AudioBehaviour = behaviour.times > 1 ? { ...behaviour, times: behaviour.times - 1 } : 'ok';
      if (task.op === 'prepare') this.prepareBehaviour = next;
      else this.encodeBehaviour = next;
    }
    const refused = behaviour.failWith === AUDIO_ERROR_CODES.encodeFailed || behaviour.failWith === AUDIO_ERROR_CODES.decodeFailed;
    throw new KernelError(behaviour.failWith, `audio ${task.op} failed`, { retryable: !refused });
  }
}
