/**
 * The reference services decode Opus in several worker threads at once (the ASR service's decoder
 * threads). Every thread must get the samples a lone decode gets: a codec build that shares one
 * decode buffer across the process corrupts concurrent decodes (the native @evan/opus addon did:
 * most concurrent decodes differed, and the ASR's word error rate on Opus rose under load).
 * Real worker threads (a Piscina pool of two, as the node's audio pool loads its TypeScript worker),
 * each loading the services' codec module.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { decodePlanA, encodePlanA } from '../../../native/services/shared/plan-a-opus.js';

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const WORKER = new URL('../../fixtures/services/opus-decode.worker.ts', import.meta.url);
const ROUNDS = 25;

/** 8 s of a tone gliding through speech frequencies: every packet carries signal. */
function glide(): Int16Array {
  const samples = new Int16Array(16_000 * 8);
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    phase += (2 * Math.PI * (150 + (i % 16_000) / 40)) / 16_000;
    samples[i] = Math.round(9_000 * Math.sin(phase));
  }
  return samples;
}

function hashOf(samples: Int16Array): number {
  let hash = 0;
  for (const sample of samples) hash = (Math.imul(hash, 31) + sample) | 0;
  return hash;
}

describe('Plan-A Opus decoding in the reference services', () => {
  it('gives every one of two concurrent decoder threads the samples a lone decode gives', async () => {
    const bytes = new Uint8Array(encodePlanA(glide()));
    const alone = hashOf(decodePlanA(bytes).samples);
    const pool = new Piscina({ filename: WORKER.href, execArgv: ['--import', TSX_LOADER], minThreads: 2, maxThreads: 2 });
    let decodes: number[];
    try {
      const task = { bytes, rounds: ROUNDS };
      const [first, second] = await Promise.all([pool.run(task) as Promise<number[]>, pool.run(task) as Promise<number[]>]);
      decodes = [...first, ...second];
    } finally {
      await pool.destroy();
    }
    expect(decodes).toHaveLength(2 * ROUNDS);
    expect(decodes.filter((hash) => hash !== alone)).toEqual([]);
  }, 60_000);
});
