/**
 * Options of the node's package manager (STYLE.md §8): units in the names, defaults from
 * PROTOCOL.md where it has them (`max_unpacked_bytes`, the 2x free-space check of §10.9 step 8),
 * validated once at construction.
 */
import { z } from 'zod';
import type { InstallStepOptions } from './package-install.actor.js';

export interface PackageManagerOptions extends InstallStepOptions {
  /** Download attempts after the first failed one (retryable errors only). */
  downloadRetries: number;
  /** Backoff before the first download retry, in ms. */
  retryMinMs: number;
  /** Cap of the download retry backoff, in ms. */
  retryMaxMs: number;
  /** Bound for a new version to become ready before it is rolled back, in ms. */
  activationTimeoutMs: number;
  /** Operations running or queued at once; more are refused (`TOO_MANY_OPERATIONS`). */
  maxPendingOperations: number;
  /** Finished operation records kept for the control endpoint (oldest evicted first). */
  maxFinishedOperations: number;
  /** Time `close()` waits for cancelled operations to wind down, in ms. */
  closeTimeoutMs: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const DEFAULT_PACKAGE_MANAGER_OPTIONS = {
  hubKeys: {},
  maxUnpackedBytes: 32 * GiB,
  maxCompressionRatio: 100,
  ratioCheckMinBytes: MiB,
  diskHeadroomFactor: 2,
  maxServiceJsonBytes: MiB,
  maxChecksumFileBytes: 16 * MiB,
  downloadRetries: 5,
  retryMinMs: 1_000,
  retryMaxMs: 30_000,
  activationTimeoutMs: 180_000,
  maxPendingOperations: 32,
  maxFinishedOperations: 64,
  closeTimeoutMs: 10_000,
} satisfies PackageManagerOptions;

const positive = z.number().int().positive();
export const PackageManagerOptionsSchema = z.object({
  hubKeys: z.record(z.string().min(1), z.string().refine((k) => Buffer.from(k, 'base64').length === 32, 'must be a raw 32-byte Ed25519 key in base64')),
  maxUnpackedBytes: positive,
  maxCompressionRatio: z.number().positive(),
  ratioCheckMinBytes: z.number().int().nonnegative(),
  diskHeadroomFactor: z.number().min(1),
  maxServiceJsonBytes: positive,
  maxChecksumFileBytes: positive,
  downloadRetries: z.number().int().nonnegative(),
  retryMinMs: z.number().int().nonnegative(),
  retryMaxMs: z.number().int().nonnegative(),
  activationTimeoutMs: positive,
  maxPendingOperations: positive,
  maxFinishedOperations: positive,
  closeTimeoutMs: z.number().int().nonnegative(),
});
