/**
 * `startAll`'s defaults (`AllOptions`, src/cli/start-all.ts) and the reference services it installs,
 * without the roles: `linguamesh up --help` shows them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AllOptions } from './start-all.js';

/** The reference services, in the order of the pipeline. */
export const REFERENCE_SERVICE_IDS = ['asr-pocketsphinx', 'mt-apertium', 'tts-espeak'] as const;

export const DEFAULT_ALL_OPTIONS = {
  dataDir: join(homedir(), '.linguamesh', 'up'),
  schedulerPort: 0,
  hubPort: 0,
  nodePort: 0,
  heartbeatIntervalMs: 2_000,
  allowCpuNodes: undefined,
  readyTimeoutMs: 60_000,
  serviceIds: [...REFERENCE_SERVICE_IDS],
} satisfies AllOptions;
