/**
 * The jobs say which service versions their calls in flight use (the package manager's
 * `inUseVersions`, PROTOCOL.md §10.9): a version is in use exactly while a call to it runs, whatever
 * the registry says meanwhile (a switch to a new version does not free a call to the old one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { after } from '../../fakes/speech.fake.js';
import { jobAssign, startJobsHarness, STANDARD_SERVICES } from '../../support/jobs-harness.js';
import type { JobsHarness } from '../../support/jobs-harness.js';

let h: JobsHarness;

afterEach(async () => {
  await h?.stop();
});

describe('versions in use by jobs', () => {
  it('names the version each stage calls, only while its call runs', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', after(h.clock, 400)).script('nmt-1', after(h.clock, 100)).script('tts-1', after(h.clock, 300));
    const inUse = () => ({ asr: [...h.runtime.inUseVersions('asr-1')], nmt: [...h.runtime.inUseVersions('nmt-1')], tts: [...h.runtime.inUseVersions('tts-1')] });
    expect(inUse()).toEqual({ asr: [], nmt: [], tts: [] });
    const job = jobAssign();
    await h.assign(job);
    expect(inUse()).toEqual({ asr: ['1.0.0'], nmt: [], tts: [] });
    await h.advance(400);
    expect(inUse()).toEqual({ asr: [], nmt: ['1.0.0'], tts: [] });
    // The registry switches TTS to another version while NMT runs: the next call names the new one.
    h.registry.set({ ...STANDARD_SERVICES[2]!, version: '2.1.0', baseUrl: 'http://127.0.0.1:6013' });
    await h.advance(100);
    expect(inUse()).toEqual({ asr: [], nmt: [], tts: ['2.1.0'] });
    expect(h.speech.callsTo('tts-1')[0]!.service).toMatchObject({ version: '2.1.0', baseUrl: 'http://127.0.0.1:6013' });
    await h.advance(300);
    expect(inUse()).toEqual({ asr: [], nmt: [], tts: [] });
    expect(h.resultsFor(job.job_id)[0]).toMatchObject({ success: true });
  });

  it('counts concurrent calls per version: one ending leaves the other in use', async () => {
    h = await startJobsHarness();
    h.speech.script('asr-1', after(h.clock, 100)).script('nmt-1', after(h.clock, 10)).script('tts-1', after(h.clock, 1_000));
    await h.assign(jobAssign());
    await h.advance(200);
    await h.assign(jobAssign());
    await h.advance(200);
    expect(h.speech.callsTo('tts-1').filter((c) => c.outcome === 'pending')).toHaveLength(2);
    expect([...h.runtime.inUseVersions('tts-1')]).toEqual(['2.0.0']);
    // The first job's call (110 → 1 110 ms) ends; the second's (310 → 1 310 ms) still runs.
    await h.advance(750);
    expect(h.speech.callsTo('tts-1').filter((c) => c.outcome === 'pending')).toHaveLength(1);
    expect([...h.runtime.inUseVersions('tts-1')]).toEqual(['2.0.0']);
    await h.advance(200);
    expect([...h.runtime.inUseVersions('tts-1')]).toEqual([]);
  });
});
