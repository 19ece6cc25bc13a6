/**
 * Reads the normative PROTOCOL.md. The shared design folder next to the repository
 * (`<repo>/../shared/`; from a git worktree under `<root>/wt/<name>` it is `<root>/shared/`) is the
 * source of truth; `docs/PROTOCOL.md` is the repository's copy, used on a clone that has no shared
 * folder beside it (CI), and kept equal to the shared one by a test. `LINGUAMESH_PROTOCOL_MD`
 * overrides the location. A missing file fails the caller loudly: the example tests must never pass
 * by finding nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The repository's copy of PROTOCOL.md. */
export const VENDORED_PROTOCOL_DOC = resolve(REPO_ROOT, 'docs/PROTOCOL.md');

/** Where the shared design folder's PROTOCOL.md may be. */
export function sharedProtocolDocCandidates(): string[] {
  return [resolve(REPO_ROOT, '../shared/PROTOCOL.md'), resolve(REPO_ROOT, '../../shared/PROTOCOL.md')];
}

export function protocolDocCandidates(): string[] {
  const fromEnv = process.env.LINGUAMESH_PROTOCOL_MD;
  return [...(fromEnv ? [resolve(fromEnv)] : []), ...sharedProtocolDocCandidates(), VENDORED_PROTOCOL_DOC];
}

export function readProtocolDoc(): string {
  const candidates = protocolDocCandidates();
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`PROTOCOL.md not found; looked at: ${candidates.join(', ')}. Put the shared design folder next to the repository or set LINGUAMESH_PROTOCOL_MD.`);
  }
  return readFileSync(found, 'utf8');
}

/** One ```json block of PROTOCOL.md with the heading it appears under. */
export interface JsonExample {
  /** The nearest heading above the block, e.g. "### 2.8 `job_ack` and `job_started` (N→S)". */
  heading: string;
  /** The section number of that heading, e.g. "2.8". */
  section: string;
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  value: unknown;
}

export function jsonExamples(doc: string): JsonExample[] {
  const lines = doc.split('\n');
  const examples: JsonExample[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^#{1,6} /.test(line)) heading = line;
    if (line.trim() !== '```json') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] ?? '').trim() !== '```'; i++) body.push(lines[i] ?? '');
    const text = body.join('\n');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new Error(`PROTOCOL.md line ${start + 1}: the json example does not parse: ${String(err)}`);
    }
    examples.push({ heading, section: /^#+ (\d+(?:\.\d+)*)/.exec(heading)?.[1] ?? '', line: start + 1, text, value });
  }
  return examples;
}
