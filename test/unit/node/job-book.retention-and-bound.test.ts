/**
 * The node's memory of job ids and utterance keys (PROTOCOL.md §8.2): kept at least the retention,
 * forgotten after it, never more than the bound; the utterance key includes tgt_lang [fix].
 */
import { describe, expect, it } from 'vitest';
import { JobBook, utteranceKeyOf } from '../../../src/actors/node/job-acceptance.js';
import { resolveJobsOptions } from '../../../src/actors/node/jobs-options.js';
import { jobAssign } from '../../support/jobs-harness.js';

describe('job book', () => {
  it('remembers for the retention, forgets after it', () => {
    const book = new JobBook({ retentionMs: 600_000, maxEntries: 100 });
    book.recordJob('a', 0);
    book.recordUtterance('k', 'a', 0);
    book.prune(600_000);
    expect(book.hasJob('a')).toBe(true);
    expect(book.acceptedJobOf('k')).toBe('a');
    book.prune(600_001);
    expect(book.hasJob('a')).toBe(false);
    expect(book.acceptedJobOf('k')).toBeUndefined();
  });

  it('a repeat sighting starts the retention again and keeps the time order for pruning', () => {
    const book = new JobBook({ retentionMs: 1_000, maxEntries: 100 });
    book.recordJob('a', 0);
    book.recordJob('b', 500);
    book.recordJob('a', 900);
    book.prune(1_600);
    expect([book.hasJob('a'), book.hasJob('b')]).toEqual([true, false]);
  });

  it('is bounded: beyond maxEntries the oldest key goes', () => {
    const book = new JobBook({ retentionMs: 600_000, maxEntries: 1_000 });
    for (let i = 0; i < 5_000; i++) {
      book.recordJob(`job-${i}`, i);
      book.recordUtterance(`key-${i}`, `job-${i}`, i);
    }
    expect(book.size).toEqual({ jobIds: 1_000, utterances: 1_000 });
    expect(book.hasJob('job-3999')).toBe(false);
    expect(book.hasJob('job-4000')).toBe(true);
  });

  it('the utterance key is (session, index, normalized tgt_lang)', () => {
    const a = jobAssign({ session_id: 's-1', utterance_index: 4, tgt_lang: 'zh-CN' });
    expect(utteranceKeyOf(a)).toBe(utteranceKeyOf({ ...a, job_id: 'other', tgt_lang: 'zh' }));
    expect(utteranceKeyOf(a)).not.toBe(utteranceKeyOf({ ...a, tgt_lang: 'en' }));
    expect(utteranceKeyOf(a)).not.toBe(utteranceKeyOf({ ...a, utterance_index: 5 }));
  });

  it('jobs options: defaults from §0.5 and §9.1, bad values refused at startup', () => {
    expect(resolveJobsOptions()).toMatchObject({ maxConcurrentJobs: 4, jobTimeoutMs: 60_000, deadlineMarginMs: 5_000, asrTimeoutMs: 20_000, nmtTimeoutMs: 10_000, ttsTimeoutMs: 15_000, dedupeRetentionMs: 600_000 });
    expect(() => resolveJobsOptions({ maxConcurrentJobs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => resolveJobsOptions({ jobTimeoutMs: 4_000 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
