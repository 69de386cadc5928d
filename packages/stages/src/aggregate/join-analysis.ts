import {
  type AnalysisName,
  type DetectedObject,
  type FacesDetected,
  type ImageAnalysis,
  type ImagePreprocessed,
  type ImageStatus,
  labelsFromObjects,
  type ObjectsDetected,
  requestedAnalyses,
  type StageName,
  type StageOutcome,
  type StageReport,
  type TextLine,
  type TextRecognized,
} from '@imgpipe/contracts';

/** What aggregate has collected for one image: the preprocess outcome and each analysis outcome so far. */
export interface ImageParts {
  preprocessed?: ImagePreprocessed;
  detect?: ObjectsDetected;
  faces?: FacesDetected;
  ocr?: TextRecognized;
}

export { requestedAnalyses };

/** True once every part the image needs has arrived (or preprocessing failed, so nothing else will come). */
export function isComplete(parts: ImageParts): boolean {
  const { preprocessed } = parts;
  if (!preprocessed) return false;
  if (preprocessed.status !== 'completed') return true;
  return requestedAnalyses(preprocessed).every((name) => parts[name] !== undefined);
}

function report(outcome: StageOutcome | undefined, fallback: StageReport['status']): StageReport {
  if (!outcome) return { status: fallback };
  return {
    status: outcome.status,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.model ? { model: outcome.model } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  };
}

/** A line lies inside an object when most of the line's box area falls within the object's box. */
export function textInObjects(
  lines: readonly TextLine[],
  objects: readonly DetectedObject[],
): { line: number; object: number }[] {
  const pairs: { line: number; object: number }[] = [];
  lines.forEach((line, lineIndex) => {
    const area = line.box.width * line.box.height;
    if (area <= 0) return;
    objects.forEach((object, objectIndex) => {
      const overlapWidth =
        Math.min(line.box.x + line.box.width, object.box.x + object.box.width) - Math.max(line.box.x, object.box.x);
      const overlapHeight =
        Math.min(line.box.y + line.box.height, object.box.y + object.box.height) - Math.max(line.box.y, object.box.y);
      if (overlapWidth > 0 && overlapHeight > 0 && (overlapWidth * overlapHeight) / area >= 0.7) {
        pairs.push({ line: lineIndex, object: objectIndex });
      }
    });
  });
  return pairs;
}

function overallStatus(preprocess: StageReport, analyses: StageReport[]): ImageStatus {
  if (preprocess.status !== 'completed') return 'failed';
  const ran = analyses.filter((stage) => stage.status !== 'skipped');
  const failed = ran.filter((stage) => stage.status === 'failed').length;
  if (failed === 0) return 'completed';
  return failed === ran.length ? 'failed' : 'partial';
}

/**
 * The joined result of one image. A failed stage leaves the others' results standing; the image is `partial` when
 * some requested analyses failed, `failed` when preprocessing or every analysis failed.
 */
export function joinAnalysis(imageId: string, parts: ImageParts, aggregateDurationMs?: number): ImageAnalysis {
  const { preprocessed } = parts;
  const requested = preprocessed ? requestedAnalyses(preprocessed) : [];
  const preprocessReport = report(preprocessed, 'pending');
  const analysisReport = (name: AnalysisName): StageReport => {
    if (!requested.includes(name)) return { status: 'skipped' };
    if (preprocessReport.status !== 'completed') {
      const cause = preprocessReport.error ? ` (${preprocessReport.error.code})` : '';
      return { status: 'failed', error: { code: 'STAGE_DEPENDENCY_FAILED', message: `preprocess failed${cause}` } };
    }
    return report(parts[name], 'pending');
  };
  const stages: Record<StageName, StageReport> = {
    preprocess: preprocessReport,
    detect: analysisReport('detect'),
    faces: analysisReport('faces'),
    ocr: analysisReport('ocr'),
    aggregate: {
      status: 'completed',
      ...(aggregateDurationMs !== undefined ? { durationMs: aggregateDurationMs } : {}),
    },
  };
  const objects = stages.detect.status === 'completed' ? (parts.detect?.objects ?? []) : [];
  const faces = stages.faces.status === 'completed' ? (parts.faces?.faces ?? []) : [];
  const text = stages.ocr.status === 'completed' && parts.ocr ? parts.ocr.text : { fullText: '', lines: [] };
  return {
    imageId,
    ...(preprocessed?.sourceName ? { sourceName: preprocessed.sourceName } : {}),
    status: overallStatus(preprocessReport, [stages.detect, stages.faces, stages.ocr]),
    ...(preprocessed?.image ? { image: preprocessed.image } : {}),
    labels: labelsFromObjects(objects),
    objects,
    faces,
    text,
    textInObjects: textInObjects(text.lines, objects),
    stages,
    attributes: preprocessed?.attributes ?? {},
  };
}
