/**
 * Greedy CTC decoding of the recogniser's per-timestep class probabilities. Class 0 is the CTC blank, classes
 * 1..n are the dictionary's characters in file order, and the last class is a space (PaddleOCR's use_space_char).
 */

export interface DecodedChar {
  char: string;
  /** Highest class probability at the timesteps that produced this character. */
  confidence: number;
  /** First and last timestep (inclusive) of the run that produced it. */
  firstStep: number;
  lastStep: number;
  /** A space inserted from the space probability in a blank run rather than read outright. */
  inferred?: boolean;
}

export interface DecodedSequence {
  text: string;
  /** Mean of the characters' confidences; 0 when nothing was read. */
  confidence: number;
  chars: DecodedChar[];
  /** Timesteps in the sequence (the input width divided by the model's horizontal stride). */
  steps: number;
}

/** PaddleOCR's dictionary: one character per line, then the space the model appends as its last class. */
export function parseDictionary(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return [...lines, ' '];
}

/**
 * Decodes one item of a [batch, steps, classes] probability tensor. `characters[i]` is class i + 1.
 *
 * The Chinese PP-OCR recogniser rarely lets its space class win between Latin words, yet its probability rises
 * clearly in the blank run there (0.1-0.4, against < 0.01 between letters of one word). A space is inserted when
 * that probability reaches `spaceThreshold` (1 disables it: plain greedy decoding).
 *
 * `allowed` (one entry per class, 0 = never) keeps the argmax to some classes: a language restriction's characters.
 */
export function decodeCtc(
  probabilities: Float32Array,
  item: number,
  steps: number,
  classes: number,
  characters: readonly string[],
  spaceThreshold = 1,
  allowed?: Uint8Array,
): DecodedSequence {
  const chars: DecodedChar[] = [];
  let previous = -1;
  const base = item * steps * classes;
  const space = characters.length === classes - 1 && characters[classes - 2] === ' ' ? classes - 1 : -1;
  // Highest space probability seen since the last character, while blanks win the argmax.
  let spaceInGap = 0;
  for (let t = 0; t < steps; t++) {
    const row = base + t * classes;
    let best = 0;
    let bestProbability = probabilities[row]!;
    for (let k = 1; k < classes; k++) {
      if (allowed && allowed[k] === 0) continue;
      const p = probabilities[row + k]!;
      if (p > bestProbability) {
        bestProbability = p;
        best = k;
      }
    }
    if (best !== 0 && best === previous) {
      const last = chars[chars.length - 1]!;
      last.lastStep = t;
      if (bestProbability > last.confidence) last.confidence = bestProbability;
    } else if (best !== 0) {
      const last = chars[chars.length - 1];
      if (spaceInGap >= spaceThreshold && best !== space && last && last.char !== ' ') {
        chars.push({ char: ' ', confidence: spaceInGap, firstStep: t - 1, lastStep: t - 1, inferred: true });
      }
      chars.push({ char: characters[best - 1] ?? '', confidence: bestProbability, firstStep: t, lastStep: t });
      spaceInGap = 0;
    } else if (space >= 0) {
      const p = probabilities[row + space]!;
      if (p > spaceInGap) spaceInGap = p;
    }
    previous = best;
  }
  const text = chars.map((c) => c.char).join('');
  // Inferred spaces lost the argmax by design; they would drag the line's confidence down without meaning it.
  const read = chars.filter((c) => !c.inferred);
  const confidence = read.length === 0 ? 0 : read.reduce((sum, c) => sum + c.confidence, 0) / read.length;
  return { text, confidence, chars, steps };
}
