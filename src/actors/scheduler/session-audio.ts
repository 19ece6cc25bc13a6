/**
 * Client audio as the session machine takes it (PROTOCOL.md §6.3–§6.5, §7): an `audio_chunk`
 * payload decoded and measured in the negotiated format, and an `utterance`'s audio made ready to
 * forward (wav converted to pcm16 at the file's rate).
 */
import { decodeBase64, encodeBase64, joinPlanA, PLAN_A_FRAME_MS, splitPlanA, wavToPcm16 } from '../../protocol/index.js';
import type { Utterance } from '../../protocol/index.js';
import type { WholeUtterance } from '../../machines/session.machine.js';

/** pcm16 at 16 kHz: 32 bytes per ms. */
const PCM16_BYTES_PER_MS = 32;

export interface MeasuredChunk {
  bytes: Uint8Array;
  durationMs: number;
}

const NO_AUDIO: MeasuredChunk = Object.freeze({ bytes: new Uint8Array(0), durationMs: 0 });

/**
 * An `audio_chunk` payload: `""`, absent or invalid base64 is no audio [compat]. Opus is re-framed
 * to its complete non-empty records (a truncated last record must not swallow the next chunk once
 * chunks are concatenated, §7.1) and lasts packets × 20 ms; pcm16 drops an odd final byte (§7.2)
 * and lasts bytes ÷ 32 ms.
 */
export function measureChunk(payload: string | undefined, format: 'opus' | 'pcm16'): MeasuredChunk {
  if (!payload) return NO_AUDIO;
  const bytes = decodeBase64(payload);
  if (!bytes || bytes.byteLength === 0) return NO_AUDIO;
  if (format === 'opus') {
    const { packets } = splitPlanA(bytes);
    if (packets.length === 0) return NO_AUDIO;
    return { bytes: joinPlanA(packets), durationMs: packets.length * PLAN_A_FRAME_MS };
  }
  const even = bytes.byteLength - (bytes.byteLength % 2);
  if (even === 0) return NO_AUDIO;
  return { bytes: even === bytes.byteLength ? bytes : bytes.subarray(0, even), durationMs: even / PCM16_BYTES_PER_MS };
}

export type PreparedUtterance = { ok: true; utterance: WholeUtterance } | { ok: false; reason: string };

/**
 * An `utterance` (§6.5): `opus` and `pcm16` are forwarded as they are (undecodable base64 then
 * fails the job on the node, §7.4); `wav` is converted to pcm16 at its own rate; any other format
 * is refused (INVALID_MESSAGE).
 */
export function prepareUtterance(message: Utterance): PreparedUtterance {
  const common = {
    manualCut: message.manual_cut,
    ...(message.pipeline ? { pipeline: message.pipeline } : {}),
    ...(message.trace_id ? { traceId: message.trace_id } : {}),
  };
  switch (message.audio_format) {
    case 'opus':
    case 'pcm16':
      return { ok: true, utterance: { audioBase64: message.audio, format: message.audio_format, sampleRate: message.sample_rate, ...common } };
    case 'wav': {
      const bytes = decodeBase64(message.audio);
      if (!bytes) return { ok: false, reason: 'audio: not valid base64' };
      const wav = wavToPcm16(bytes);
      if (!wav.ok) return { ok: false, reason: `audio: ${wav.reason}` };
      return { ok: true, utterance: { audioBase64: encodeBase64(wav.value.pcm), format: 'pcm16', sampleRate: wav.value.sampleRate, ...common } };
    }
    default:
      return { ok: false, reason: `audio_format: must be opus, pcm16 or wav, not "${message.audio_format.slice(0, 32)}"` };
  }
}
