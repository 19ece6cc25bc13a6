/**
 * Voice names the node may send (PROTOCOL.md §9.4) map onto installed eSpeak NG voices: language
 * codes, BCP 47 tags with regions, Piper voice names (the node's default for `en`), and `zh` onto
 * Mandarin; anything else is unknown.
 */
import { describe, expect, it } from 'vitest';
import { VoiceCatalogue, parseVoiceList } from '../../../native/services/tts-espeak/espeak-voices.js';

const LIST = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 5  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  es              --/M      Spanish_(Spain)    roa/es
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419           (es-mx 6)
`;
const catalogue = new VoiceCatalogue(parseVoiceList(LIST));

describe('VoiceCatalogue', () => {
  it.each([
    ['es', 'es'],
    ['ES', 'es'],
    ['en', 'en-gb'],
    ['en-US', 'en-us'],
    ['en_US-lessac-medium', 'en-us'],
    ['en_GB-alan-low', 'en-gb'],
    ['es_MX-claude-high', 'es'],
    ['es-419', 'es-419'],
    ['zh', 'cmn'],
    ['zh_CN-huayan-medium', 'cmn'],
    ['Spanish_(Spain)', 'es'],
    ['gmw/en-US', 'en-us'],
  ])('%s → %s', (name, language) => {
    expect(catalogue.resolve(name)?.language).toBe(language);
  });

  it.each(['', 'qq', 'qq_QQ-nobody-medium', '../../etc/passwd', 'en us'])('%j is unknown', (name) => {
    expect(catalogue.resolve(name)).toBeUndefined();
  });

  it('lists languages by primary subtag, with zh for Mandarin', () => {
    expect(catalogue.languages()).toEqual(['cmn', 'en', 'es', 'zh']);
  });
});
