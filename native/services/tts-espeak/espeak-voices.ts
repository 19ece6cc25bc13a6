/**
 * The voices eSpeak NG has on this machine (`espeak-ng --voices`) and how a requested voice name
 * maps onto one. A name may be an eSpeak language tag (`es`, `en-us`), a BCP 47 tag with a region
 * eSpeak lacks (`es-MX` → `es`), an eSpeak voice name or file (`English_(America)`, `gmw/en`), or a
 * Piper voice (`en_US-lessac-medium`, the node's default for `en`, PROTOCOL.md §9.4), which maps by
 * its language prefix.
 */

export interface EspeakVoice {
  /** eSpeak language tag, passed to `espeak-ng -v` (`en-us`). */
  language: string;
  /** Display name (`English_(America)`). */
  name: string;
  /** Voice file under espeak-ng-data/voices (`gmw/en-US`). */
  file: string;
}

/** ISO 639-1 codes eSpeak files under another code. */
const ALIASES: Readonly<Record<string, string>> = { zh: 'cmn' };

/** `en_US-lessac-medium`, `zh_CN-huayan-x_low`: language, optional region, speaker, quality. */
const PIPER_VOICE = /^([a-z]{2,3})(?:[_-]([a-z]{2,4}))?-[a-z0-9_]+-(?:x_low|low|medium|high)$/i;
const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/;

/** Parses the table printed by `espeak-ng --voices`. */
export function parseVoiceList(output: string): EspeakVoice[] {
  const voices: EspeakVoice[] = [];
  for (const line of output.split('\n').slice(1)) {
    const [, language, , name, file] = line.trim().split(/\s+/);
    if (language && name && file) voices.push({ language, name, file });
  }
  return voices;
}

export class VoiceCatalogue {
  readonly voices: readonly EspeakVoice[];
  readonly #byKey = new Map<string, EspeakVoice>();

  constructor(voices: readonly EspeakVoice[]) {
    this.voices = voices;
    // Earlier keys win: language tags first, then file names, then display names.
    const keyed: [string, EspeakVoice][] = [
      ...voices.map((v): [string, EspeakVoice] => [v.language.toLowerCase(), v]),
      ...voices.map((v): [string, EspeakVoice] => [(v.file.split('/').at(-1) ?? v.file).toLowerCase(), v]),
      ...voices.map((v): [string, EspeakVoice] => [v.file.toLowerCase(), v]),
      ...voices.map((v): [string, EspeakVoice] => [v.name.toLowerCase(), v]),
    ];
    for (const [key, voice] of keyed) if (!this.#byKey.has(key)) this.#byKey.set(key, voice);
  }

  /** The voice for a requested name, or `undefined` when nothing on this machine fits. */
  resolve(requested: string): EspeakVoice | undefined {
    const raw = requested.trim().toLowerCase();
    if (raw === '') return undefined;
    const direct = this.#byKey.get(raw);
    if (direct) return direct;
    const piper = PIPER_VOICE.exec(raw);
    const tag = piper ? [piper[1], piper[2]].filter(Boolean).join('-') : raw.replace(/_/g, '-');
    if (!LANGUAGE_TAG.test(tag)) return undefined;
    // RFC 4647 lookup: drop subtags from the end until a voice matches.
    const parts = tag.split('-');
    while (parts.length > 0) {
      const candidate = parts.join('-');
      const found = this.#byKey.get(candidate) ?? this.#byKey.get(ALIASES[candidate] ?? '');
      if (found) return found;
      parts.pop();
    }
    return undefined;
  }

  /** Languages (primary subtags, plus ISO 639-1 aliases) with at least one voice. */
  languages(): string[] {
    const set = new Set(this.voices.map((v) => v.language.split('-')[0]?.toLowerCase() ?? v.language));
    for (const [alias, target] of Object.entries(ALIASES)) if (set.has(target)) set.add(alias);
    return [...set].sort();
  }
}
