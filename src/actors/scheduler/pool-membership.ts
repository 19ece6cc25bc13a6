/**
 * Language-pair pools (PROTOCOL.md §5.2). A node is a member of pool `src:tgt` for a job when it is
 * ready, its ASR is ready and knows `src`, its NMT is ready and translates (src, tgt) (unless
 * src = tgt or the job does not translate), and, when the job wants speech, its TTS is ready and
 * speaks `tgt`. `nodePools` lists the translation pools (src ≠ tgt) of the two indexed pipelines;
 * `qualifies` is the rule itself, for any pipeline.
 */
import type { NodeStatus, Pipeline } from '../../protocol/common.schema.js';
import { normalizeLanguage, poolKey } from '../../protocol/language.js';
import type { NodeCapabilities, NodePools, PoolVariant } from '../../kernel/ports/capability-store.port.js';
import { isTypeReady } from './node-capabilities.js';

export const NO_POOLS: NodePools = Object.freeze({ speech: [], text: [] }) as NodePools;

/** The stages of a pipeline that decide pool membership. */
export type PoolPipeline = Pick<Pipeline, 'use_nmt' | 'use_tts'>;

/** A job's target, as the dispatcher asks for it (§5.2). */
export type PoolQuery =
  | { mode: 'one_way'; src: string; tgt: string; pipeline: PoolPipeline }
  /** Two-way session: a node qualifies only for both directions (§5.2 [fix]). */
  | { mode: 'two_way'; langA: string; langB: string; pipeline: PoolPipeline };

/** The indexed variant a pipeline's pools are found in, or undefined when it must be evaluated node by node. */
export function variantOf(pipeline: PoolPipeline): PoolVariant | undefined {
  if (!pipeline.use_nmt) return undefined;
  return pipeline.use_tts ? 'speech' : 'text';
}

/** The translation pools of a node in each variant: none unless it is ready (§5.2 rule 1). */
export function nodePools(status: NodeStatus, caps: NodeCapabilities, allowCpuNodes: boolean): NodePools {
  if (status !== 'ready' || !isTypeReady(caps, 'asr', allowCpuNodes) || !isTypeReady(caps, 'nmt', allowCpuNodes)) return NO_POOLS;
  const asr = new Set(caps.asrLanguages);
  const tts = isTypeReady(caps, 'tts', allowCpuNodes) ? new Set(caps.ttsLanguages) : new Set<string>();
  const text: string[] = [];
  const speech: string[] = [];
  // nmtPairs is sorted by pool key and holds no src = tgt pair, so both lists come out sorted.
  for (const { src, tgt } of caps.nmtPairs) {
    if (!asr.has(src)) continue;
    const key = `${src}:${tgt}`;
    text.push(key);
    if (tts.has(tgt)) speech.push(key);
  }
  return text.length === 0 ? NO_POOLS : { speech, text };
}

/** §5.2 for one direction and any pipeline. */
export function qualifies(status: NodeStatus, caps: NodeCapabilities, src: string, tgt: string, pipeline: PoolPipeline, allowCpuNodes: boolean): boolean {
  if (status !== 'ready') return false;
  const from = normalizeLanguage(src);
  const to = normalizeLanguage(tgt);
  if (!isTypeReady(caps, 'asr', allowCpuNodes) || !caps.asrLanguages.includes(from)) return false;
  if (pipeline.use_nmt && from !== to) {
    if (!isTypeReady(caps, 'nmt', allowCpuNodes) || !caps.nmtPairs.some((p) => p.src === from && p.tgt === to)) return false;
  }
  if (pipeline.use_tts) {
    if (!isTypeReady(caps, 'tts', allowCpuNodes) || !caps.ttsLanguages.includes(to)) return false;
  }
  return true;
}

/** Whether two pool lists are equal (both are sorted). */
export function samePools(a: NodePools, b: NodePools): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((k, i) => k === y[i]);
  return same(a.speech, b.speech) && same(a.text, b.text);
}

/** Jobs with the same key have the same candidates (before exclusions). */
export function queryKey(query: PoolQuery): string {
  const p = query.pipeline;
  const stages = `${p.use_nmt ? 1 : 0}${p.use_tts ? 1 : 0}`;
  return query.mode === 'two_way' ? `2:${query.langA}:${query.langB}:${stages}` : `1:${query.src}:${query.tgt}:${stages}`;
}

/** The pool key of a translation (src ≠ tgt); same-language jobs are evaluated node by node. */
export function poolKeyOf(src: string, tgt: string): string | undefined {
  const from = normalizeLanguage(src);
  const to = normalizeLanguage(tgt);
  return from !== '' && to !== '' && from !== to ? poolKey(from, to) : undefined;
}
