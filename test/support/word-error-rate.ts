/**
 * Word error rate: the word-level edit distance (substitutions + deletions + insertions) between a
 * reference and a hypothesis, over the number of reference words.
 */

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

export function wordEditDistance(reference: readonly string[], hypothesis: readonly string[]): number {
  let previous = Array.from({ length: hypothesis.length + 1 }, (_, j) => j);
  for (let i = 1; i <= reference.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= hypothesis.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (reference[i - 1] === hypothesis[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return previous[hypothesis.length] ?? 0;
}

/** Corpus WER: total edits over total reference words. */
export function wordErrorRate(pairs: readonly { reference: string; hypothesis: string }[]): { wer: number; edits: number; referenceWords: number } {
  let edits = 0;
  let referenceWords = 0;
  for (const { reference, hypothesis } of pairs) {
    const ref = words(reference);
    edits += wordEditDistance(ref, words(hypothesis));
    referenceWords += ref.length;
  }
  return { wer: referenceWords === 0 ? 0 : edits / referenceWords, edits, referenceWords };
}
