/**
 * Segmentation of the `audio_chunk` path (PROTOCOL.md §6.4), as pure functions over a value: the
 * buffer of the current utterance, its duration, the time audio last arrived, the TTS playback
 * window and the current turn. The session machine owns the timer; these functions decide what a
 * chunk, a pause, playback or a close does to the buffer, and which buffers are finalized.
 *
 * Durations come from the negotiated format: Opus Plan-A packets × 20 ms, or pcm16 bytes ÷ 32 ms
 * (§6.4 [fix]); the caller measures each chunk (it also normalizes its bytes, §7.1).
 */

export interface SegmenterOptions {
  /** Silence after the last non-empty chunk that finalizes the buffer, in ms (`pause_ms`). */
  pauseMs: number;
  /** Buffered duration that finalizes the buffer, in ms (`max_duration_ms`). */
  maxDurationMs: number;
  /** Buffer size beyond which it is finalized, in bytes (`max_buffer_bytes`). */
  maxBufferBytes: number;
  /** `padding_ms` of a manual cut (`is_final`), in ms (`padding_manual_ms`). */
  paddingManualMs: number;
  /** `padding_ms` of a pause or duration finalize, in ms (`padding_auto_ms`). */
  paddingAutoMs: number;
}

/** Why a buffer was finalized; `close` is a session close (pause semantics, §6.6 step 1). */
export type FinalizeReason = 'pause' | 'close' | 'max_duration' | 'is_final' | 'max_length';

export interface SegmentFlags {
  isManualCut?: true;
  isTimeoutTriggered?: true;
  isMaxDurationTriggered?: true;
}

/** One finalized utterance of audio, before it gets its index. */
export interface FinalizedAudio {
  reason: FinalizeReason;
  /** The buffered chunks, concatenated (Plan A survives concatenation, §7.1). */
  bytes: Uint8Array;
  durationMs: number;
  flags: SegmentFlags;
  /** Absent for a MaxLength finalize (no padding, §6.4). */
  paddingMs: number | undefined;
  turnId: string | undefined;
}

export interface SegmenterState {
  chunks: readonly Uint8Array[];
  bytes: number;
  durationMs: number;
  /** When the pause is counted from: the last non-empty chunk, or the end of playback after it. */
  pauseFrom: number | undefined;
  /** Between `tts_started` and `tts_play_ended`: the pause timer is suspended (§6.4). */
  playing: boolean;
  /** Kept by a MaxDuration (or MaxLength) finalize, used and cleared by the next pause or manual one. */
  turnId: string | undefined;
}

export const EMPTY_SEGMENTER: SegmenterState = Object.freeze({ chunks: Object.freeze([]) as readonly Uint8Array[], bytes: 0, durationMs: 0, pauseFrom: undefined, playing: false, turnId: undefined });

export interface Chunk {
  /** Normalized bytes of the negotiated format; empty = no audio. */
  bytes: Uint8Array;
  durationMs: number;
  isFinal: boolean;
  /** Arrival time, in ms since the epoch. */
  at: number;
}

export interface SegmentStep {
  state: SegmenterState;
  finalized: FinalizedAudio[];
}

/** Whether the pause timer should run: audio is buffered and no TTS is playing. */
export function pauseWanted(state: SegmenterState): boolean {
  return state.bytes > 0 && !state.playing;
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Finalizes the buffer for `reason` (§6.4 table; `pause` and `close` are the pause row). An empty
 * buffer finalizes nothing: no job, no index change, the turn untouched.
 */
export function finalize(state: SegmenterState, reason: FinalizeReason, options: SegmenterOptions, newTurnId: () => string): SegmentStep {
  if (state.bytes === 0) return { state, finalized: [] };
  let flags: SegmentFlags;
  let paddingMs: number | undefined;
  let turnId = state.turnId;
  let keepTurn = false;
  switch (reason) {
    case 'pause':
    case 'close':
      flags = { isTimeoutTriggered: true };
      paddingMs = options.paddingAutoMs;
      break;
    case 'is_final':
      flags = { isManualCut: true };
      paddingMs = options.paddingManualMs;
      break;
    case 'max_duration':
      flags = { isMaxDurationTriggered: true };
      paddingMs = options.paddingAutoMs;
      turnId ??= newTurnId();
      keepTurn = true;
      break;
    case 'max_length':
      // Cut by a limit, like MaxDuration: the speaker goes on in the same turn.
      flags = {};
      paddingMs = undefined;
      turnId ??= newTurnId();
      keepTurn = true;
      break;
    default: {
      const never: never = reason;
      return never;
    }
  }
  const finalized: FinalizedAudio = { reason, bytes: concat(state.chunks, state.bytes), durationMs: state.durationMs, flags, paddingMs, turnId };
  return {
    state: { ...state, chunks: EMPTY_SEGMENTER.chunks, bytes: 0, durationMs: 0, turnId: keepTurn ? turnId : undefined },
    finalized: [finalized],
  };
}

/**
 * One `audio_chunk` (§6.4): a chunk that arrives after a pause longer than `pauseMs` whose timer has
 * not fired yet first finalizes the buffer as a pause [fix]; then the chunk is appended, and the
 * finalize reasons are checked, the later row of the table winning for flags and padding.
 */
export function appendChunk(state: SegmenterState, chunk: Chunk, options: SegmenterOptions, newTurnId: () => string): SegmentStep {
  const finalized: FinalizedAudio[] = [];
  let current = state;
  const hasAudio = chunk.bytes.byteLength > 0;
  if (hasAudio && pauseWanted(current) && current.pauseFrom !== undefined && chunk.at - current.pauseFrom >= options.pauseMs) {
    const paused = finalize(current, 'pause', options, newTurnId);
    current = paused.state;
    finalized.push(...paused.finalized);
  }
  if (hasAudio) {
    current = {
      ...current,
      chunks: [...current.chunks, chunk.bytes],
      bytes: current.bytes + chunk.bytes.byteLength,
      durationMs: current.durationMs + chunk.durationMs,
      pauseFrom: chunk.at,
    };
  }
  let reason: FinalizeReason | undefined;
  if (current.durationMs >= options.maxDurationMs) reason = 'max_duration';
  if (chunk.isFinal) reason = 'is_final';
  if (current.bytes > options.maxBufferBytes) reason = 'max_length';
  if (reason !== undefined) {
    const cut = finalize(current, reason, options, newTurnId);
    current = cut.state;
    finalized.push(...cut.finalized);
  }
  return { state: current, finalized };
}

/** `tts_started`: the pause timer is suspended until playback ends. */
export function playbackStarted(state: SegmenterState): SegmenterState {
  return state.playing ? state : { ...state, playing: true };
}

/** `tts_play_ended`: the pause counts again, from now (§6.4). */
export function playbackEnded(state: SegmenterState, at: number): SegmenterState {
  return { ...state, playing: false, pauseFrom: state.bytes > 0 ? at : state.pauseFrom };
}
