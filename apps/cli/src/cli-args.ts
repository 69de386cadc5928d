import { ANALYSES, type AnalysisName } from '@imgpipe/contracts';

/** A mistake on the command line: main prints the message and exits with EXIT.usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--analyses detect,ocr` as analysis names; absent means all (an empty list). */
export function parseAnalyses(value: string | undefined): AnalysisName[] {
  const names =
    value
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  const unknown = names.filter((name) => !(ANALYSES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown analyses ${unknown.join(', ')} (expected ${ANALYSES.join(', ')})`);
  }
  return names as AnalysisName[];
}
