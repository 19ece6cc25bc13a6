/**
 * Pool membership (PROTOCOL.md §5.2): the indexed pools of a node agree with the rule itself for
 * every pair and pipeline, and the index follows nodes as their pools change.
 */
import { describe, expect, it } from 'vitest';
import { capabilitiesFromReport } from '../../../src/actors/scheduler/node-capabilities.js';
import { PoolIndex } from '../../../src/actors/scheduler/pool-index.js';
import { nodePools, qualifies, variantOf } from '../../../src/actors/scheduler/pool-membership.js';
import type { NodeCapabilities } from '../../../src/kernel/ports/capability-store.port.js';

function caps(asr: string[], pairs: string[], tts: string[], ready = { asr: true, nmt: true, tts: true }): NodeCapabilities {
  return capabilitiesFromReport({
    capability_by_type: (['asr', 'nmt', 'tts'] as const).map((type) => ({ type, ready: ready[type] })),
    language_capabilities: { asr_languages: asr, tts_languages: tts, nmt_pairs: pairs.map((p) => ({ src: p.split(':')[0]!, tgt: p.split(':')[1]! })) },
  });
}

describe('pools of a node', () => {
  it('ASR [en], NMT en→es, TTS [es] → en:es for speech and text, not es:en (§12 item 22)', () => {
    const node = caps(['en'], ['en:es'], ['es']);
    expect(nodePools('ready', node, false)).toEqual({ speech: ['en:es'], text: ['en:es'] });
    expect(qualifies('ready', node, 'es', 'en', { use_nmt: true, use_tts: true }, false)).toBe(false);
  });

  it('TTS stopped → out of speech pools, still in text pools (§12 item 22)', () => {
    const node = caps(['en'], ['en:es'], ['es'], { asr: true, nmt: true, tts: false });
    expect(nodePools('ready', node, false)).toEqual({ speech: [], text: ['en:es'] });
  });

  it('no pools unless ready', () => {
    const node = caps(['en'], ['en:es'], ['es']);
    for (const status of ['registering', 'degraded', 'draining', 'offline'] as const) expect(nodePools(status, node, false)).toEqual({ speech: [], text: [] });
  });

  it('agrees with the rule for every pair and both indexed pipelines', () => {
    const langs = ['en', 'es', 'zh', 'fr'];
    const nodes = [
      caps(['en', 'zh'], ['en:es', 'zh:en', 'fr:en', 'en:zh'], ['en', 'es']),
      caps(['en'], ['en:es'], ['es'], { asr: true, nmt: false, tts: true }),
      caps(['es', 'fr'], ['es:fr', 'fr:es'], ['fr'], { asr: true, nmt: true, tts: false }),
    ];
    for (const node of nodes) {
      const pools = nodePools('ready', node, false);
      for (const pipeline of [{ use_nmt: true, use_tts: true }, { use_nmt: true, use_tts: false }]) {
        const variant = variantOf(pipeline)!;
        for (const src of langs) for (const tgt of langs) {
          if (src === tgt) continue;
          expect([src, tgt, variant, pools[variant].includes(`${src}:${tgt}`)]).toEqual([src, tgt, variant, qualifies('ready', node, src, tgt, pipeline, false)]);
        }
      }
    }
  });

  it('needs no NMT for same-language or no-translation jobs, and TTS only for speech (§5.2 rules 3–4)', () => {
    const node = caps(['en'], [], ['en', 'de'], { asr: true, nmt: false, tts: true });
    expect(qualifies('ready', node, 'en', 'en', { use_nmt: true, use_tts: true }, false)).toBe(true);
    expect(qualifies('ready', node, 'en', 'de', { use_nmt: false, use_tts: true }, false)).toBe(true);
    expect(qualifies('ready', node, 'en', 'fr', { use_nmt: false, use_tts: true }, false)).toBe(false);
    expect(qualifies('ready', node, 'en', 'fr', { use_nmt: false, use_tts: false }, false)).toBe(true);
    expect(variantOf({ use_nmt: false, use_tts: true })).toBeUndefined();
  });
});

describe('pool index', () => {
  it('adds, moves and removes members', () => {
    const index = new PoolIndex();
    index.set('n2', { speech: ['en:es'], text: ['en:es', 'en:fr'] });
    index.set('n1', { speech: ['en:es'], text: ['en:es'] });
    expect(index.membersOf('speech', 'en:es')).toEqual(['n1', 'n2']);
    expect(index.snapshot('text')).toEqual({ 'en:es': ['n1', 'n2'], 'en:fr': ['n2'] });
    index.set('n2', { speech: [], text: ['en:fr'] });
    expect(index.snapshot('speech')).toEqual({ 'en:es': ['n1'] });
    expect(index.sizes('text')).toEqual({ 'en:es': 1, 'en:fr': 1 });
    index.remove('n1');
    index.remove('n2');
    expect(index.snapshot('speech')).toEqual({});
    expect(index.snapshot('text')).toEqual({});
  });
});
