/**
 * An instant AudioPort that keeps the audio it is given: pcm16 input comes back as it is (plus the
 * requested padding), always "speech"; TTS output is "encoded" as its own bytes. For tests and
 * benchmarks of everything around the audio workers, where the utterance must reach the ASR
 * service unchanged (so that a fake ASR can read what was sent).
 */
import { KernelError } from '../../src/kernel/errors.js';
import { AUDIO_ERROR_CODES, PCM_SAMPLE_RATE } from '../../src/kernel/ports/audio.port.js';
import type { AudioPort, DecodedAudio, DetectSpeechRequest, EncodedAudio, EncodedSpeech, EncodeRequest, PreparedAudio, PrepareRequest, SpeechAudio } from '../../src/kernel/ports/audio.port.js';

function pcmOf(input: EncodedAudio): Int16Array {
  if (input.format !== 'pcm16') throw new KernelError(AUDIO_ERROR_CODES.decodeFailed, `passthrough audio reads pcm16 only, not ${input.format}`);
  const even = input.bytes.byteLength - (input.bytes.byteLength % 2);
  // A copy: the bytes may be a Buffer view into Node's shared pool, at any offset.
  return new Int16Array(new Uint8Array(input.bytes.subarray(0, even)).buffer);
}

export class PassthroughAudio implements AudioPort {
  async decode(input: EncodedAudio): Promise<DecodedAudio> {
    const pcm = pcmOf(input);
    return { pcm, sampleRate: PCM_SAMPLE_RATE, durationMs: pcm.length / 16, warnings: [] };
  }

  async detectSpeech(input: DetectSpeechRequest): Promise<SpeechAudio> {
    const durationMs = input.pcm.length / 16;
    return { pcm: input.pcm, sampleRate: PCM_SAMPLE_RATE, speech: true, segments: [{ startMs: 0, endMs: durationMs }], durationMs, inputDurationMs: durationMs };
  }

  async prepare(input: PrepareRequest): Promise<PreparedAudio> {
    const speech = pcmOf(input);
    const pcm = new Int16Array(speech.length + 16 * (input.paddingMs ?? 0));
    pcm.set(speech);
    const inputDurationMs = speech.length / 16;
    return { pcm, sampleRate: PCM_SAMPLE_RATE, speech: true, segments: [{ startMs: 0, endMs: inputDurationMs }], durationMs: pcm.length / 16, inputDurationMs, warnings: [] };
  }

  async encode(input: EncodeRequest): Promise<EncodedSpeech> {
    const samples = input.audio.kind === 'pcm' ? input.audio.samples : undefined;
    const bytes = samples ? new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength) : input.audio.kind === 'wav' ? input.audio.bytes : new Uint8Array(0);
    return { bytes, format: input.format, sampleRate: PCM_SAMPLE_RATE, durationMs: 0 };
  }

  async close(): Promise<void> {}
}
