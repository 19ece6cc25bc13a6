/**
 * Values that many nodes report alike are kept once: an equal value gives back the first copy,
 * shared copies are frozen, and the table stays within its bound.
 */
import { describe, expect, it } from 'vitest';
import { MAX_INTERNED_VALUES, ValueInterner } from '../../../src/actors/scheduler/value-interning.js';

const report = () => ({
  installed_services: [{ service_id: 'asr-en', type: 'asr', device: 'gpu', status: 'running' }],
  capability_by_type: [{ type: 'asr', ready: true, ready_impl_ids: ['asr-en'] }],
  language_capabilities: { asr_languages: ['en'], nmt_pairs: [{ src: 'en', tgt: 'es' }] },
});

describe('value interning', () => {
  it('gives back the first copy for an equal value, and a new one for a different value', () => {
    const interner = new ValueInterner();
    const first = interner.intern(report());
    expect(interner.intern(report())).toBe(first);
    const other = report();
    other.language_capabilities.asr_languages.push('fr');
    expect(interner.intern(other)).toBe(other);
    expect(interner.size()).toBe(2);
  });

  it('freezes what it shares, deeply, so that no node can change another node\'s report', () => {
    const shared = new ValueInterner().intern(report());
    expect(Object.isFrozen(shared)).toBe(true);
    expect(Object.isFrozen(shared.installed_services[0])).toBe(true);
    expect(Object.isFrozen(shared.language_capabilities.nmt_pairs[0])).toBe(true);
    expect(() => shared.language_capabilities.asr_languages.push('de')).toThrow(TypeError);
  });

  it(`shares at most ${MAX_INTERNED_VALUES} distinct values; later ones are kept as they are`, () => {
    const interner = new ValueInterner();
    const kept = Array.from({ length: MAX_INTERNED_VALUES }, (_, i) => interner.intern({ i }));
    expect(interner.size()).toBe(MAX_INTERNED_VALUES);
    const late = { i: -1 };
    expect(interner.intern(late)).toBe(late);
    expect(interner.intern({ i: -1 })).not.toBe(late);
    expect(interner.size()).toBe(MAX_INTERNED_VALUES);
    expect(interner.intern({ i: 7 })).toBe(kept[7]);
  });
});
