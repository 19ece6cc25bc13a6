/**
 * Options of the node's job processing (PROTOCOL.md §0.5, §8.2, §9.1), merged over
 * `DEFAULT_JOBS_OPTIONS` and validated once with zod (STYLE.md §8).
 */
import { z } from 'zod';
import { ConfigError } from '../../kernel/errors.js';
import { DEFAULT_JOB_TIMEOUTS } from '../../machines/job.machine.js';
import { DEFAULT_MAX_CONCURRENT_JOBS } from '../../protocol/node-link.schema.js';

export interface JobsOptions {
  /** Jobs processed at once; one more is refused with NODE_OVERLOADED (`max_concurrent_jobs`, §8.2 check 4). */
  maxConcurrentJobs: number;
  /** The scheduler's `job_timeout_ms` (§5.4), in ms. */
  jobTimeoutMs: number;
  /** A job's deadline is `jobTimeoutMs` less this, from its assign, in ms (§9.1: 5 000). */
  deadlineMarginMs: number;
  /** Bound of one ASR call, in ms (§9.1). */
  asrTimeoutMs: number;
  /** Bound of one NMT call, in ms (§9.1). */
  nmtTimeoutMs: number;
  /** Bound of one TTS call, in ms (§9.1). */
  ttsTimeoutMs: number;
  /** Job ids and utterance keys are remembered at least this long, in ms (`node_dedupe_retention_ms`, §8.2). */
  dedupeRetentionMs: number;
  /** Most job ids (and utterance keys) remembered; the oldest go first beyond it. */
  maxDedupeEntries: number;
  /** Time a running job gets to finish when the node stops, before it is stopped without a result, in ms (§2.12: 30 000). */
  jobShutdownMs: number;
}

export const DEFAULT_JOBS_OPTIONS = {
  maxConcurrentJobs: DEFAULT_MAX_CONCURRENT_JOBS,
  jobTimeoutMs: 60_000,
  deadlineMarginMs: 5_000,
  asrTimeoutMs: DEFAULT_JOB_TIMEOUTS.asrMs,
  nmtTimeoutMs: DEFAULT_JOB_TIMEOUTS.nmtMs,
  ttsTimeoutMs: DEFAULT_JOB_TIMEOUTS.ttsMs,
  dedupeRetentionMs: 600_000,
  maxDedupeEntries: 100_000,
  jobShutdownMs: 30_000,
} as const satisfies JobsOptions;

const positiveMs = z.number().int().positive();

const JobsOptionsSchema = z
  .object({
    maxConcurrentJobs: z.number().int().min(1),
    jobTimeoutMs: positiveMs,
    deadlineMarginMs: z.number().int().nonnegative(),
    asrTimeoutMs: positiveMs,
    nmtTimeoutMs: positiveMs,
    ttsTimeoutMs: positiveMs,
    dedupeRetentionMs: z.number().int().nonnegative(),
    maxDedupeEntries: z.number().int().min(1),
    jobShutdownMs: z.number().int().nonnegative(),
  })
  .refine((o) => o.jobTimeoutMs > o.deadlineMarginMs, { message: 'jobTimeoutMs must exceed deadlineMarginMs', path: ['deadlineMarginMs'] });

export function resolveJobsOptions(options: Partial<JobsOptions> = {}): JobsOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const parsed = JobsOptionsSchema.safeParse({ ...DEFAULT_JOBS_OPTIONS, ...defined });
  if (!parsed.success) {
    throw new ConfigError(`invalid jobs options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { cause: parsed.error });
  }
  return parsed.data;
}
