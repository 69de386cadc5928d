/**
 * Character error rate for judging OCR against ground truth: Levenshtein edits / reference characters.
 *
 * Comparison rules (shared by the tests and the bench): case-sensitive; Unicode NFKC; each line trimmed with runs
 * of whitespace collapsed to one space; empty lines dropped; an image's lines joined with "\n" in reading order, so
 * a missed, extra or out-of-order line costs edits, and the newlines count as reference characters.
 */

export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (x.length === 0) return y.length;
  if (y.length === 0) return x.length;
  let previous = new Uint32Array(y.length + 1);
  let current = new Uint32Array(y.length + 1);
  for (let j = 0; j <= y.length; j++) previous[j] = j;
  for (let i = 1; i <= x.length; i++) {
    current[0] = i;
    for (let j = 1; j <= y.length; j++) {
      const substitution = previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[y.length]!;
}

export function normalizeLines(lines: readonly string[]): string {
  return lines
    .map((line) => line.normalize('NFKC').replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

export interface CerCount {
  edits: number;
  referenceLength: number;
}

export function countErrors(referenceLines: readonly string[], hypothesisLines: readonly string[]): CerCount {
  const reference = normalizeLines(referenceLines);
  const hypothesis = normalizeLines(hypothesisLines);
  return { edits: levenshtein(reference, hypothesis), referenceLength: [...reference].length };
}

export function characterErrorRate(counts: readonly CerCount[]): number {
  const edits = counts.reduce((sum, c) => sum + c.edits, 0);
  const length = counts.reduce((sum, c) => sum + c.referenceLength, 0);
  return length === 0 ? 0 : edits / length;
}
