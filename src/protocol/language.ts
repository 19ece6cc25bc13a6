/**
 * Language codes, language sets, directed pairs and pool keys (PROTOCOL.md §1.7, §5.2).
 * Every comparison of languages goes through `normalizeLanguage` first.
 */

/** Not a language: valid only as the `src_lang` of a two-way session (PROTOCOL.md §1.7, §6.1). */
export const AUTO_LANGUAGE = 'auto';

/** PROTOCOL.md §1.7 alias table, applied after lower-casing. */
const LANGUAGE_ALIASES: Readonly<Record<string, string>> = {
  'zh-cn': 'zh',
  'zh-tw': 'zh',
  'zh-hans': 'zh',
  'zh-hant': 'zh',
  'pt-br': 'pt',
  'pt-pt': 'pt',
  'en-us': 'en',
  'en-gb': 'en',
  in: 'id',
  iw: 'he',
};

/** A directed language pair: translation from `src` to `tgt`. */
export interface LanguagePair {
  src: string;
  tgt: string;
}

/**
 * Normalizes one language code (PROTOCOL.md §1.7): trimmed, lower-cased, `_` read as `-` (so
 * `zh_CN` is `zh-cn`), then the alias table (`zh-cn` → `zh`, `in` → `id`, …). Other codes are
 * returned lower-cased and otherwise unchanged.
 */
export function normalizeLanguage(code: string): string {
  const lower = code.trim().toLowerCase().replace(/_/g, '-');
  return LANGUAGE_ALIASES[lower] ?? lower;
}

/** Whether `code` is the `auto` pseudo-language. */
export function isAutoLanguage(code: string): boolean {
  return normalizeLanguage(code) === AUTO_LANGUAGE;
}

/**
 * A language list as a set (PROTOCOL.md §1.7): normalized, without `auto` and empty codes,
 * duplicates removed, sorted (sorted output is RECOMMENDED, §3.3).
 */
export function normalizeLanguageSet(codes: Iterable<string>): string[] {
  const set = new Set<string>();
  for (const code of codes) {
    const lang = normalizeLanguage(code);
    if (lang !== '' && lang !== AUTO_LANGUAGE) set.add(lang);
  }
  return [...set].sort();
}

/** Set equality of two language lists after normalization (a reorder is no change, §5.1). */
export function sameLanguageSet(a: Iterable<string>, b: Iterable<string>): boolean {
  const x = normalizeLanguageSet(a);
  const y = normalizeLanguageSet(b);
  return x.length === y.length && x.every((lang, i) => lang === y[i]);
}

/** The pool key of a directed pair: `"src:tgt"` with both sides normalized (PROTOCOL.md §5.2). */
export function poolKey(src: string, tgt: string): string {
  return `${normalizeLanguage(src)}:${normalizeLanguage(tgt)}`;
}

/** The pair named by a pool key, or undefined when `key` is not `"src:tgt"` with both sides non-empty. */
export function parsePoolKey(key: string): LanguagePair | undefined {
  const parts = key.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { src: normalizeLanguage(parts[0]), tgt: normalizeLanguage(parts[1]) };
}

/**
 * A list of directed pairs as a set: both sides normalized; pairs with an empty side, an `auto`
 * side or `src` = `tgt` (nothing to translate) removed; duplicates removed; sorted by pool key.
 */
export function normalizePairs(pairs: Iterable<LanguagePair>): LanguagePair[] {
  const byKey = new Map<string, LanguagePair>();
  for (const pair of pairs) {
    const src = normalizeLanguage(pair.src);
    const tgt = normalizeLanguage(pair.tgt);
    if (src === '' || tgt === '' || src === tgt || src === AUTO_LANGUAGE || tgt === AUTO_LANGUAGE) continue;
    byKey.set(`${src}:${tgt}`, { src, tgt });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, pair]) => pair);
}

/** Set equality of two pair lists after normalization. */
export function samePairSet(a: Iterable<LanguagePair>, b: Iterable<LanguagePair>): boolean {
  const x = normalizePairs(a).map((p) => `${p.src}:${p.tgt}`);
  const y = normalizePairs(b).map((p) => `${p.src}:${p.tgt}`);
  return x.length === y.length && x.every((key, i) => key === y[i]);
}

/**
 * Every ordered pair of distinct members of `codes`, normalized and sorted: the meaning of
 * `service.json` `languages.nmt_any_to_any` (PROTOCOL.md §9.7).
 */
export function anyToAnyPairs(codes: Iterable<string>): LanguagePair[] {
  const langs = normalizeLanguageSet(codes);
  const pairs: LanguagePair[] = [];
  for (const src of langs) {
    for (const tgt of langs) {
      if (src !== tgt) pairs.push({ src, tgt });
    }
  }
  return pairs;
}
