import {
  checkOcrLanguages,
  isOcrModelSet,
  OCR_MODEL_SET_NAMES,
  type OcrModelSetName,
  UPLOAD_ANALYSES,
  type UploadAnalysisName,
} from '@imgpipe/contracts';

/** A mistake on the command line: main prints the message and exits with EXIT.usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--analyses detect,ocr,features` as analysis names; absent means detect, faces and ocr (an empty list). */
export function parseAnalyses(value: string | undefined): UploadAnalysisName[] {
  const names =
    value
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  const unknown = names.filter((name) => !(UPLOAD_ANALYSES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown analyses ${unknown.join(', ')} (expected ${UPLOAD_ANALYSES.join(', ')})`);
  }
  return names as UploadAnalysisName[];
}

/** `--ocr-model ppocr-v5`: an OCR model set's name, or undefined (the deployment's set) when the flag is absent. */
export function parseOcrModel(value: string | undefined): OcrModelSetName | undefined {
  if (value === undefined || isOcrModelSet(value)) return value;
  throw new UsageError(`--ocr-model must be one of ${OCR_MODEL_SET_NAMES.join(', ')} (got ${value})`);
}

/** `--ocr-languages en,de`: OCR languages in catalogue order; none (no restriction) when the flag is absent. */
export function parseOcrLanguages(value: string | undefined): string[] {
  const names =
    value
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  try {
    return checkOcrLanguages(names);
  } catch (error) {
    throw new UsageError(`--ocr-languages: ${(error as Error).message}`);
  }
}

/** The one action of `imgpipe <command> <action>`; anything else is a usage error naming the choices. */
export function actionOf<const A extends string>(
  command: string,
  positionals: readonly string[],
  actions: readonly A[],
): A {
  const [action, ...extra] = positionals;
  if (action === undefined || !(actions as readonly string[]).includes(action) || extra.length > 0) {
    throw new UsageError(
      `${command}: expected ${actions.map((name) => `'${name}'`).join(' or ')} (see 'imgpipe ${command} --help')`,
    );
  }
  return action as A;
}

/** Rows as aligned columns for people; the first row is the header. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A flag that takes a whole number of at least `min`. */
export function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const number = Number(value);
  if (value === undefined || !/^\d+$/.test(value.trim()) || number < min) {
    throw new UsageError(`${flag} must be a whole number of at least ${min} (got ${value ?? 'nothing'})`);
  }
  return number;
}
