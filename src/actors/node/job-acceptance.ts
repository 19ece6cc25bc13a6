/**
 * The node's acceptance checks for a `job_assign` (PROTOCOL.md §8.2, checks 2–5; check 1 — not
 * registered — is the jobs actor's, which never sees such a job) and the memory of job ids and
 * utterance keys they need, kept at least `retentionMs` and bounded by `maxEntries`.
 */
import type { ServiceSnapshot } from '../../kernel/ports/service-registry.port.js';
import { duplicateJobIdError, duplicateUtteranceError, modelNotAvailable, overloadedError } from '../../machines/job-messages.js';
import { needsAtAssign, planJob } from '../../machines/job-plan.js';
import { normalizeLanguage } from '../../protocol/language.js';
import type { JobAssign, JobError } from '../../protocol/node-jobs.schema.js';
import { availabilityProblem } from './service-choice.js';

export interface JobBookOptions {
  /** How long a job id or utterance key is remembered at least, in ms (`node_dedupe_retention_ms`, §8.2). */
  retentionMs: number;
  /**
   * Most keys of each kind kept; beyond it the oldest is forgotten even inside the retention. With
   * the default (100 000 keys, about 10 MB) a node would need over 160 jobs a second to reach it.
   */
  maxEntries: number;
}

/** The (session_id, utterance_index, tgt_lang) key of §8.2 check 3 [fix: with tgt_lang]. */
export function utteranceKeyOf(job: JobAssign): string {
  return JSON.stringify([job.session_id, job.utterance_index, normalizeLanguage(job.tgt_lang)]);
}

/** Job ids seen and utterance keys accepted, oldest first (Map insertion order). */
export class JobBook {
  private readonly jobIds = new Map<string, number>();
  private readonly utterances = new Map<string, { jobId: string; atMs: number }>();

  constructor(private readonly options: JobBookOptions) {}

  get size(): { jobIds: number; utterances: number } {
    return { jobIds: this.jobIds.size, utterances: this.utterances.size };
  }

  hasJob(jobId: string): boolean {
    return this.jobIds.has(jobId);
  }

  /** The job that accepted this utterance key, if one did and is still remembered. */
  acceptedJobOf(key: string): string | undefined {
    return this.utterances.get(key)?.jobId;
  }

  /** Remembers `jobId` from now on (a repeat sighting starts its retention again). */
  recordJob(jobId: string, nowMs: number): void {
    this.prune(nowMs);
    // Deleted first, so that the Map stays in time order (set() keeps an existing key in place).
    this.jobIds.delete(jobId);
    this.jobIds.set(jobId, nowMs);
    this.bound(this.jobIds);
  }

  recordUtterance(key: string, jobId: string, nowMs: number): void {
    this.prune(nowMs);
    this.utterances.delete(key);
    this.utterances.set(key, { jobId, atMs: nowMs });
    this.bound(this.utterances);
  }

  /** Forgets keys older than the retention. Entries are in time order, so this stops at the first young one. */
  prune(nowMs: number): void {
    const cutoff = nowMs - this.options.retentionMs;
    for (const [id, atMs] of this.jobIds) {
      if (atMs >= cutoff) break;
      this.jobIds.delete(id);
    }
    for (const [key, entry] of this.utterances) {
      if (entry.atMs >= cutoff) break;
      this.utterances.delete(key);
    }
  }

  private bound(map: Map<string, unknown>): void {
    while (map.size > this.options.maxEntries) {
      const oldest = map.keys().next();
      if (oldest.done) break;
      map.delete(oldest.value);
    }
  }
}

export interface AcceptanceState {
  book: JobBook;
  runningJobs: number;
  maxConcurrentJobs: number;
  services: readonly ServiceSnapshot[];
}

/** Checks 2–5 of §8.2, in order: undefined to accept, else the error of the refusal result. */
export function refusalOf(job: JobAssign, state: AcceptanceState): JobError | undefined {
  if (state.book.hasJob(job.job_id)) return duplicateJobIdError(job);
  const acceptedAs = state.book.acceptedJobOf(utteranceKeyOf(job));
  if (acceptedAs !== undefined) return duplicateUtteranceError(job, acceptedAs);
  // §8.2 check 4: refuse, never queue without bound.
  if (state.runningJobs >= state.maxConcurrentJobs) return overloadedError(state.runningJobs, state.maxConcurrentJobs);
  for (const need of needsAtAssign(planJob(job))) {
    const problem = availabilityProblem(state.services, need);
    if (problem) return modelNotAvailable(problem);
  }
  return undefined;
}
