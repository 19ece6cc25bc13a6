/**
 * The session machine as an actor on a FakeClock (PROTOCOL.md §6.4–§6.6): what it emits and when
 * its timers fire. No sockets: events in, emitted events out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Actor } from 'xstate';
import { FakeClock } from '../../../src/kernel/clock.js';
import { sessionMachine } from '../../../src/machines/session.machine.js';
import type { SessionEmitted, SessionTimingOptions } from '../../../src/machines/session.machine.js';

const OPTIONS: SessionTimingOptions = { pauseMs: 3_000, maxDurationMs: 10_000, maxBufferBytes: 512_000, paddingManualMs: 280, paddingAutoMs: 220, idleTimeoutMs: 300_000, resultGapGraceMs: 30_000, maxPendingResults: 200 };

let actor: Actor<typeof sessionMachine> | undefined;
afterEach(() => actor?.stop());

function start(options: Partial<SessionTimingOptions> = {}) {
  const clock = new FakeClock();
  const emitted: SessionEmitted[] = [];
  const errors: unknown[] = [];
  let turns = 0;
  actor = createActor(sessionMachine, { clock, input: { audioFormat: 'opus', sampleRate: 16_000, options: { ...OPTIONS, ...options }, newTurnId: () => `turn-${++turns}` } });
  actor.on('*', (e) => emitted.push(e));
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const audio = (n: number, ms: number, isFinal = false) => actor!.send({ type: 'session.audio', bytes: new Uint8Array(n).fill(1), durationMs: ms, isFinal, at: clock.now() });
  const types = () => emitted.splice(0).map((e) => (e.type === 'session.dispatch' ? `dispatch ${e.job.index} ${e.job.reason}` : e.type === 'session.deliver' ? `deliver ${e.index} ${e.outcome.kind}` : e.type));
  return { clock, emitted, errors, audio, types };
}

describe('session machine', () => {
  it('finalizes on the pause timer, and restarts it with each non-empty chunk', () => {
    const s = start();
    s.audio(5, 200);
    s.clock.advance(2_000);
    s.audio(5, 200);
    s.clock.advance(2_999);
    expect(s.types()).toEqual([]);
    s.clock.advance(1);
    expect(s.types()).toEqual(['dispatch 0 pause']);
    // An empty chunk neither arms nor restarts the timer.
    s.audio(0, 0);
    s.clock.advance(10_000);
    expect(s.types()).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('closes after the idle timeout unless a job is in flight; a resolution restarts the count', () => {
    const s = start({ idleTimeoutMs: 1_000 });
    s.audio(5, 200, true);
    expect(s.types()).toEqual(['dispatch 0 is_final']);
    s.clock.advance(5_000);
    expect(s.types()).toEqual([]);
    actor!.send({ type: 'session.resolved', index: 0, outcome: { kind: 'silence', jobId: 'j0' } });
    expect(s.types()).toEqual(['deliver 0 silence']);
    s.clock.advance(999);
    actor!.send({ type: 'session.heard' });
    s.clock.advance(999);
    expect(s.types()).toEqual([]);
    s.clock.advance(1);
    expect(s.types()).toEqual(['session.closed', 'session.drained']);
    expect(s.emitted).toEqual([]);
  });

  it('on close finalizes the buffer, dispatches waiting utterances, and drains once their jobs resolve', () => {
    const s = start();
    s.audio(5, 200);
    actor!.send({ type: 'session.utterance', index: 3, utterance: { audioBase64: 'AAAA', format: 'pcm16', sampleRate: 16_000, manualCut: true } });
    actor!.send({ type: 'session.close', reason: 'client' });
    expect(s.types()).toEqual(['dispatch 0 close', 'dispatch 3 utterance', 'session.closed']);
    // The skipped 1 and 2 are reported in their place, once 0 (empty: nothing sent) resolves.
    actor!.send({ type: 'session.resolved', index: 0, outcome: { kind: 'empty', jobId: 'a' } });
    expect(s.types()).toEqual(['deliver 1 missing', 'deliver 2 missing']);
    actor!.send({ type: 'session.resolved', index: 3, outcome: { kind: 'silence', jobId: 'b' } });
    expect(s.types()).toEqual(['deliver 3 silence', 'session.drained']);
  });

  it('declares a result gap missing after the grace, with a fresh grace for the next gap', () => {
    const s = start();
    for (let i = 0; i < 4; i++) s.audio(5, 200, true);
    s.types();
    actor!.send({ type: 'session.resolved', index: 1, outcome: { kind: 'silence', jobId: 'b' } });
    s.clock.advance(20_000);
    actor!.send({ type: 'session.resolved', index: 3, outcome: { kind: 'silence', jobId: 'd' } });
    s.clock.advance(10_000);
    expect(s.types()).toEqual(['deliver 0 missing', 'deliver 1 silence']);
    s.clock.advance(29_999);
    expect(s.types()).toEqual([]);
    s.clock.advance(1);
    expect(s.types()).toEqual(['deliver 2 missing', 'deliver 3 silence']);
  });

  it('stops on supervisor.shutdown', () => {
    start();
    actor!.send({ type: 'supervisor.shutdown' });
    expect(actor!.getSnapshot().status).toBe('done');
  });
});
