/** The committed speech fixtures (test/fixtures/speech, made by scripts/make-fixtures.sh). */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SPEECH_FIXTURES_DIR = resolve(import.meta.dirname, '../fixtures/speech');

export interface SpeechFixture {
  file: string;
  text: string;
  wav: Buffer;
}

export function loadSpeechFixtures(): SpeechFixture[] {
  const list = JSON.parse(readFileSync(join(SPEECH_FIXTURES_DIR, 'fixtures.json'), 'utf8')) as { file: string; text: string }[];
  return list.map(({ file, text }) => ({ file, text, wav: readFileSync(join(SPEECH_FIXTURES_DIR, file)) }));
}
