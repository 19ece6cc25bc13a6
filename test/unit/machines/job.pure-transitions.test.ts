/**
 * The job machine as pure transitions (no actors run): what each step emits and where it goes, with
 * the invoked actors' results fed in as events and the service chooser's answers scripted.
 */
import { assign, initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { KernelError } from '../../../src/kernel/errors.js';
import { DEFAULT_JOB_TIMEOUTS, jobMachine } from '../../../src/machines/job.machine.js';
import type { ChooseServiceParams, ChosenService, JobContext, JobEvent, JobInput, ServiceChoice, StageChoice } from '../../../src/machines/job.machine.js';
import type { JobAssign } from '../../../src/protocol/node-jobs.schema.js';

const T0 = 1_767_225_600_000;
let now = T0;
const clock = { now: () => now };

const job: JobAssign = {
  type: 'job_assign',
  job_id: 'job-6f1c2a9e-6a43-4f7e-9a35-2f0d9e1b7c10',
  attempt_id: 1,
  session_id: 's-9A0B1C2D',
  trace_id: '0b6e4f2c-9a1d-4d0e-8b9f-3c2e1a0f5d77',
  utterance_index: 3,
  src_lang: 'en',
  tgt_lang: 'es',
  pipeline: { use_asr: true, use_nmt: true, use_tts: true },
  audio: 'AwD4//4DAPj//g==',
  audio_format: 'opus',
  sample_rate: 16_000,
};

const input = (overrides: Partial<JobAssign> = {}): JobInput => ({ job: { ...job, ...overrides }, nodeId: 'node-3F2A9C1B', clock, timeouts: DEFAULT_JOB_TIMEOUTS });
const done = (id: string, output: unknown) => ({ type: `xstate.done.actor.${id}`, output }) as unknown as JobEvent;
const failed = (id: string, error: unknown) => ({ type: `xstate.error.actor.${id}`, error }) as unknown as JobEvent;
const service = (id: string): ChosenService => ({ ref: { id, baseUrl: 'http://127.0.0.1:1', ttsEndpoint: '/tts' }, voices: [], startupTimeoutMs: 30_000 });
const running = (id: string): ServiceChoice => ({ kind: 'running', service: service(id) });
const emitted = (actions: { type: string; params?: unknown }[]) =>
  actions.filter((a) => a.type === 'xstate.emit').map((a) => (a.params as { event: { type: string; message?: { type: string } } }).event);

/** What the chooser answers at each entry to `selecting`, in order (none left: nothing installed), and what it was asked. */
let choices: StageChoice[] = [];
let asked: ChooseServiceParams[] = [];
const choose = (...next: StageChoice[]) => {
  choices = next;
  asked = [];
};
const nothingInstalled: StageChoice = { kind: 'none', unavailable: { service_id: 'scripted', reason: 'not_installed' } };
const machine = jobMachine.provide({
  actions: {
    chooseService: assign(({ context }: { context: JobContext }, params: ChooseServiceParams) => {
      asked.push(params);
      return { stage: { ...context.stage, choice: choices.shift() ?? nothingInstalled } };
    }),
  },
});
const step = (snapshot: AnyMachineSnapshot, event: JobEvent) => transition(machine, snapshot as never, event);

describe('job machine: pure transitions', () => {
  it('starts by sending job_ack then job_started, and prepares the audio under the deadline', () => {
    now = T0;
    const [snapshot, actions] = initialTransition(machine, input());
    expect(snapshot.value).toEqual({ running: 'preparing' });
    expect(emitted(actions).map((e) => e.message?.type)).toEqual(['job_ack', 'job_started']);
    const timers = actions.filter((a) => a.type === 'xstate.raise').map((a) => (a.params as { delay: number }).delay);
    expect(timers).toEqual([55_000]);
  });

  it('invalid base64 fails at once with PROCESSING_ERROR, sending the result', () => {
    const [snapshot, actions] = initialTransition(machine, input({ audio: '%%%' }));
    expect(snapshot.value).toBe('failed');
    expect(snapshot.status).toBe('done');
    const events = emitted(actions);
    expect(events.map((e) => e.type)).toEqual(['link.send', 'link.send', 'link.send', 'job.finished']);
    expect(events[2]).toMatchObject({ message: { type: 'job_result', success: false, error: { code: 'PROCESSING_ERROR', details: { reason: 'invalid_base64' } } } });
  });

  it('keeps its context to at most 19 fields, so that the copy XState makes at each assign stays a fast object in V8', () => {
    choose(running('asr-a'));
    const [start] = initialTransition(machine, input());
    const [s] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(s.value).toEqual({ running: { asr: 'calling' } });
    expect(Object.keys(s.context).length).toBeLessThanOrEqual(19);
  });

  it('no speech → empty (ASR_EMPTY) without choosing a service; speech → the ASR service is chosen for the job’s languages', () => {
    choose(running('asr-a'));
    const [start] = initialTransition(machine, input());
    const [silent, silentActions] = step(start, done('prepareAudio', { speech: false, pcm16Base64: '', durationMs: 0 }));
    expect(silent.value).toBe('empty');
    expect(emitted(silentActions)[0]).toMatchObject({ message: { success: true, text_asr: '', extra: { reason: 'ASR_EMPTY' } } });
    expect(asked).toEqual([]);
    const [speech] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(speech.value).toEqual({ running: { asr: 'calling' } });
    expect(asked).toEqual([expect.objectContaining({ job: expect.objectContaining({ job_id: job.job_id }), need: expect.objectContaining({ stage: 'asr' }), exclude: [] })]);
  });

  it('a failed call chooses again with the service excluded; nothing left after a call → stage failure', () => {
    now = T0;
    choose(running('asr-a'), running('asr-b'), { kind: 'none', unavailable: { service_id: 'asr', reason: 'not_installed' } });
    const [start] = initialTransition(machine, input());
    let [s] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(s.value).toEqual({ running: { asr: 'calling' } });
    expect(s.context.stage).toMatchObject({ calls: 1, current: { ref: { id: 'asr-a' } } });
    now = T0 + 100;
    [s] = step(s, failed('transcribe', new KernelError('SERVICE_UNREACHABLE', 'refused', { retryable: true })));
    expect(s.value).toEqual({ running: { asr: 'calling' } });
    expect(s.context.stage).toMatchObject({ calls: 2, current: { ref: { id: 'asr-b' } }, tried: ['asr-a'], lastFailure: { serviceId: 'asr-a', code: 'SERVICE_UNREACHABLE' } });
    now = T0 + 300;
    const [end, actions] = step(s, { type: 'xstate.after.asrCall.job.running.asr.calling' } as unknown as JobEvent);
    expect(asked.map((a) => a.exclude)).toEqual([[], ['asr-a'], ['asr-a', 'asr-b']]);
    expect(end.value).toBe('failed');
    expect(emitted(actions)[0]).toMatchObject({ message: { error: { code: 'PROCESSING_ERROR', details: { stage: 'asr', reason: 'failed' } }, extra: { service_timings: { asr_ms: 300 } } } });
  });

  it('a stage with nothing to call at all → MODEL_NOT_AVAILABLE with the chooser’s details', () => {
    choose({ kind: 'none', unavailable: { service_id: 'asr-en', reason: 'not_running', service_version: '1.2.0' } });
    const [start] = initialTransition(machine, input());
    const [end, actions] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(end.value).toBe('failed');
    expect(emitted(actions)[0]).toMatchObject({ message: { error: { code: 'MODEL_NOT_AVAILABLE', message: 'Service asr-en@1.2.0 is not available: not_running' } } });
  });

  it('a chooser that could not choose fails the job with PROCESSING_ERROR and its code', () => {
    choose({ kind: 'failed', code: 'INTERNAL_ERROR' });
    const [start] = initialTransition(machine, input());
    const [end, actions] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(end.value).toBe('failed');
    expect(emitted(actions)[0]).toMatchObject({ message: { error: { code: 'PROCESSING_ERROR', details: { stage: 'asr', code: 'INTERNAL_ERROR' } } } });
    // Unprovided, the action answers the same way.
    const [bare] = initialTransition(jobMachine, input());
    const [bareEnd] = transition(jobMachine, bare, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }) as never);
    expect(bareEnd.value).toBe('failed');
    expect(bareEnd.context.error).toMatchObject({ code: 'PROCESSING_ERROR', details: { code: 'ACTOR_NOT_PROVIDED' } });
  });

  it('startable → starting under the service startup bound; a failed start excludes it', () => {
    choose({ kind: 'startable', serviceId: 'asr-cold', startupTimeoutMs: 8_000 }, running('asr-warm'));
    const [start] = initialTransition(machine, input());
    let [s, actions] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    expect(s.value).toEqual({ running: { asr: 'starting' } });
    expect(actions.filter((a) => a.type === 'xstate.raise').map((a) => (a.params as { delay: number }).delay)).toEqual([8_000]);
    [s, actions] = step(s, failed('startService', new KernelError('SERVICE_START_TIMEOUT', 'never healthy')));
    expect(actions.map((a) => a.type)).not.toContain('xstate.emit');
    expect(s.value).toEqual({ running: { asr: 'calling' } });
    expect(s.context.stage).toMatchObject({ tried: ['asr-cold'], calls: 1, current: { ref: { id: 'asr-warm' } } });
    expect(asked.map((a) => a.exclude)).toEqual([[], ['asr-cold']]);
  });

  it('ASR done → NMT → TTS → encoding → succeeded; src = tgt skips NMT', () => {
    choose(running('asr-a'), running('nmt-a'), running('tts-a'));
    const [start] = initialTransition(machine, input());
    let [s] = step(start, done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    [s] = step(s, done('transcribe', { text: ' hello ', language: 'en' }));
    expect(s.value).toEqual({ running: { nmt: 'calling' } });
    expect(s.context.textAsr).toBe('hello');
    [s] = step(s, done('translate', { ok: true, text: 'hola' }));
    expect(s.value).toEqual({ running: { tts: { calling: 'synthesizing' } } });
    expect(asked.map((a) => a.need.stage)).toEqual(['asr', 'nmt', 'tts']);
    [s] = step(s, done('synthesize', { kind: 'wav', bytes: new Uint8Array(4) }));
    expect(s.value).toEqual({ running: { tts: { calling: 'encoding' } } });
    const [end, actions] = step(s, done('encodeSpeech', { base64: 'T1BVUw==', durationMs: 20 }));
    expect(end.value).toBe('succeeded');
    expect(end.output).toEqual({ status: 'succeeded' });
    expect(emitted(actions)[0]).toMatchObject({ message: { success: true, text_asr: 'hello', text_translated: 'hola', tts_audio: 'T1BVUw==', tts_format: 'opus' } });

    choose(running('asr-a'), running('tts-a'));
    let [same] = step(initialTransition(machine, input({ tgt_lang: 'en-GB' }))[0], done('prepareAudio', { speech: true, pcm16Base64: 'AAAA', durationMs: 1 }));
    [same] = step(same, done('transcribe', { text: 'hello' }));
    expect(same.value).toEqual({ running: { tts: { calling: 'synthesizing' } } });
    expect(same.context.textTranslated).toBe('hello');
    expect(asked.map((a) => a.need.stage)).toEqual(['asr', 'tts']);
  });

  it('job.cancel ends the job with no result; the deadline fails it with reason "deadline"', () => {
    const [start] = initialTransition(machine, input());
    const [cancelled, cancelActions] = step(start, { type: 'job.cancel', reason: 'job_timeout' });
    expect(cancelled.value).toBe('cancelled');
    expect(emitted(cancelActions)).toEqual([expect.objectContaining({ type: 'job.finished', success: false, code: 'CANCELLED' })]);
    const [late, lateActions] = step(start, { type: 'xstate.after.deadline.job.running' } as unknown as JobEvent);
    expect(late.value).toBe('failed');
    expect(emitted(lateActions)[0]).toMatchObject({ message: { error: { code: 'PROCESSING_ERROR', details: { reason: 'deadline' } } } });
  });
});
