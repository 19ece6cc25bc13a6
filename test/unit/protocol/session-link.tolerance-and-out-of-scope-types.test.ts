/**
 * Session link (PROTOCOL.md §6): the tolerance rules linguamesh adds, out-of-scope message types
 * (§6.9), and the negotiation helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  classifyClientMessageType,
  encodeFrame,
  forwardedExtra,
  negotiateAudioFormat,
  parseClientToScheduler,
  parseSchedulerToClient,
  sessionMode,
  type MessageValidationError,
  type ParseResult,
  type SessionAsrPartial,
  type TranslationResult,
} from '../../../src/protocol/index.js';

function failure<T>(result: ParseResult<T>): MessageValidationError {
  if (result.ok) throw new Error(`expected a validation failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('session link', () => {
  it('accepts session_close without reason, and tts_* without group_id', () => {
    expect(parseClientToScheduler('{"type":"session_close","session_id":"s-9A0B1C2D"}').ok).toBe(true);
    expect(parseClientToScheduler('{"type":"tts_started","session_id":"s-1","trace_id":"t","ts_start_ms":5}').ok).toBe(true);
    expect(parseClientToScheduler('{"type":"tts_play_ended","session_id":"s-1","trace_id":"t","group_id":"","ts_end_ms":9}').ok).toBe(true);
  });

  it('keeps mode and audio_format as open strings, read through the negotiation helpers', () => {
    const result = parseClientToScheduler(JSON.stringify({ type: 'session_init', client_version: 'v', platform: 'web', src_lang: 'en', tgt_lang: 'es', mode: 'round_robin', audio_format: 'flac' }));
    if (!result.ok) throw result.error;
    expect(result.value).toMatchObject({ mode: 'round_robin', audio_format: 'flac' });
    expect(sessionMode('round_robin')).toBe('one_way');
    expect(sessionMode(undefined)).toBe('one_way');
    expect(sessionMode('two_way_auto')).toBe('two_way_auto');
    expect(negotiateAudioFormat('flac')).toBe('opus');
    expect(negotiateAudioFormat(undefined)).toBe('opus');
    expect(negotiateAudioFormat('pcm16')).toBe('pcm16');
  });

  it('accepts an audio_chunk whose payload is not base64: it is an empty chunk at the segmenter', () => {
    expect(parseClientToScheduler('{"type":"audio_chunk","session_id":"s-1","seq":1,"is_final":false,"payload":"@@not base64@@"}').ok).toBe(true);
    expect(parseClientToScheduler('{"type":"audio_chunk","session_id":"s-1","seq":2,"is_final":true,"payload":""}').ok).toBe(true);
  });

  it('parses an utterance with its required fields and rejects a float utterance_index', () => {
    const utterance = { type: 'utterance', session_id: 's-1', src_lang: 'en', tgt_lang: 'es', audio_format: 'opus', utterance_index: 0, manual_cut: true, audio: '', sample_rate: 16000 };
    expect(parseClientToScheduler(JSON.stringify(utterance)).ok).toBe(true);
    expect(failure(parseClientToScheduler(JSON.stringify({ ...utterance, utterance_index: 1.5 }))).issues.map((i) => i.path)).toEqual(['utterance_index']);
  });

  it('classifies room_* as unsupported, webrtc_* as ignored, and anything else unknown', () => {
    expect(classifyClientMessageType('session_init')).toBe('supported');
    expect(classifyClientMessageType('room_create')).toBe('unsupported');
    expect(classifyClientMessageType('webrtc_offer')).toBe('ignored');
    expect(classifyClientMessageType('webrtc_ice')).toBe('ignored');
    expect(classifyClientMessageType('bogus')).toBe('unknown');
    expect(classifyClientMessageType('translation_result')).toBe('unknown');
  });

  it('reports out-of-scope types with their disposition, and unknown types as plain invalid messages', () => {
    const room = failure(parseClientToScheduler('{"type":"room_join","room_code":"1234"}'));
    expect(room.details).toMatchObject({ type: 'room_join', disposition: 'unsupported' });
    expect(room.issues.map((i) => i.path)).toEqual(['type']);
    const webrtc = failure(parseClientToScheduler('{"type":"webrtc_answer"}'));
    expect(webrtc.details).toMatchObject({ disposition: 'ignored' });
    const bogus = failure(parseClientToScheduler('{"type":"bogus"}'));
    expect(bogus.details.type).toBe('bogus');
    expect(bogus.details).not.toHaveProperty('disposition');
    expect(bogus.reason).toBe('type: unknown message type "bogus"');
  });

  it('rejects an unknown ui_event event (closed enum at the top level of the message)', () => {
    const event = { type: 'ui_event', trace_id: 't', session_id: 's', job_id: '', utterance_index: 0, event: 'ASR_PARTIAL', status: 'ok' };
    expect(parseSchedulerToClient(JSON.stringify(event)).ok).toBe(true);
    expect(failure(parseSchedulerToClient(JSON.stringify({ ...event, event: 'ASR_GUESS' }))).issues.map((i) => i.path)).toEqual(['event']);
    expect(failure(parseSchedulerToClient(JSON.stringify({ ...event, status: 'warn' }))).issues.map((i) => i.path)).toEqual(['status']);
  });

  it('encodes a sender-built value with absent optional fields omitted', () => {
    const partial: SessionAsrPartial = { type: 'asr_partial', session_id: 's-1', utterance_index: 2, job_id: '', text: 'hi', is_final: false, trace_id: 't' };
    expect(JSON.parse(encodeFrame(partial))).toEqual(partial);
    const result: TranslationResult = {
      type: 'translation_result',
      session_id: 's-1',
      job_id: 'job-1',
      trace_id: 't',
      utterance_index: 0,
      text_asr: '',
      text_translated: '',
      tts_audio: '',
      tts_format: 'pcm16',
      extra: undefined,
      service_timings: { total_ms: 12 },
    };
    const wire = JSON.parse(encodeFrame(result)) as Record<string, unknown>;
    expect(wire).not.toHaveProperty('extra');
    expect(wire.service_timings).toEqual({ total_ms: 12 });
  });

  it('forwards only the known keys of job_result.extra into translation_result', () => {
    expect(forwardedExtra({ reason: 'ASR_EMPTY', emotion: 'calm', service_timings: { total_ms: 3 }, vendor_debug: { x: 1 } })).toEqual({ reason: 'ASR_EMPTY', emotion: 'calm', service_timings: { total_ms: 3 } });
    expect(forwardedExtra({ vendor_debug: 1 })).toBeUndefined();
    expect(forwardedExtra(undefined)).toBeUndefined();
  });
});
