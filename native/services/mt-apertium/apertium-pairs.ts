/**
 * Which translation directions this machine can run: every Apertium mode installed under
 * `<datadir>/modes` (`eng-spa.mode`, `spa-eng.mode`, …), with its ISO 639-3 codes mapped to the
 * ISO 639-1 codes the node speaks (`en`, `es`). Variant modes (`spa-eng_US`) are used only when
 * their direction has no plain mode.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_APERTIUM_DATADIR = '/usr/share/apertium';

/** ISO 639-3 (Apertium's names) → ISO 639-1, for the languages Apertium has pairs for. */
const ISO_639_1: Readonly<Record<string, string>> = {
  afr: 'af', arg: 'an', bel: 'be', bre: 'br', bul: 'bg', cat: 'ca', ces: 'cs', cym: 'cy', dan: 'da', deu: 'de',
  ell: 'el', eng: 'en', epo: 'eo', eus: 'eu', fao: 'fo', fin: 'fi', fra: 'fr', gle: 'ga', glg: 'gl', hbs: 'sh',
  hin: 'hi', isl: 'is', ita: 'it', kaz: 'kk', lav: 'lv', lit: 'lt', mkd: 'mk', mlt: 'mt', nld: 'nl', nno: 'nn',
  nob: 'nb', oci: 'oc', pol: 'pl', por: 'pt', ron: 'ro', rus: 'ru', slk: 'sk', slv: 'sl', spa: 'es', sqi: 'sq',
  srd: 'sc', swe: 'sv', tat: 'tt', tur: 'tr', ukr: 'uk', urd: 'ur', zho: 'zh', cmn: 'zh',
};

/**
 * A request's language tag as this service names languages: lower case, primary subtag only,
 * ISO 639-1 where one exists (`en-US` → `en`, `eng` → `en`, `ast` stays `ast`).
 */
export function normaliseLanguage(tag: string): string {
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return ISO_639_1[primary] ?? primary;
}

export interface ApertiumPair {
  src: string;
  tgt: string;
  /** Mode name passed to `apertium` (`eng-spa`). */
  mode: string;
  /** Name of the linguistic data package the mode runs (`apertium-eng-spa`). */
  model: string;
}

const MODE_NAME = /^([a-z]{2,3})-([a-z]{2,3})(?:_([A-Za-z0-9]+))?$/;

export async function discoverPairs(datadir: string): Promise<ApertiumPair[]> {
  const modesDir = join(datadir, 'modes');
  let names: string[];
  try {
    names = await readdir(modesDir);
  } catch {
    return [];
  }
  const byDirection = new Map<string, ApertiumPair & { variant: boolean }>();
  for (const file of names.sort()) {
    if (!file.endsWith('.mode')) continue;
    const mode = file.slice(0, -'.mode'.length);
    const match = MODE_NAME.exec(mode);
    if (!match?.[1] || !match[2]) continue;
    const src = normaliseLanguage(match[1]);
    const tgt = normaliseLanguage(match[2]);
    const variant = match[3] !== undefined;
    const key = `${src}>${tgt}`;
    const existing = byDirection.get(key);
    if (existing && (variant || !existing.variant)) continue;
    const pipeline = await readFile(join(modesDir, file), 'utf8').catch(() => '');
    // The pipeline names its data files by path: /usr/share/apertium/apertium-eng-spa/eng-spa.automorf.bin.
    const model = /\/(apertium-[a-z]{2,3}-[a-z]{2,3}[^/]*)\//.exec(pipeline)?.[1] ?? `apertium-${mode}`;
    byDirection.set(key, { src, tgt, mode, model, variant });
  }
  return [...byDirection.values()].map(({ src, tgt, mode, model }) => ({ src, tgt, mode, model }));
}
