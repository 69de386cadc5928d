import { createHash } from 'node:crypto';
import {
  ANALYSES,
  type AnalysisName,
  type DetectedObject,
  type FacesDetected,
  type FeaturesExtracted,
  type ImageAnalysis,
  type ImagePreprocessed,
  type ImageStatus,
  type ImageTransformed,
  labelsFromObjects,
  type ObjectsDetected,
  requestedAnalyses,
  requestsFeatures,
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
  /** The transform stage's renditions: only for an image whose upload asked for some. */
  transform?: ImageTransformed;
  /** The features stage's keypoints: only for an image whose upload asked for features. */
  features?: FeaturesExtracted;
}

/** The rendition presets an image waits for (a join state written before renditions existed has none). */
export function requestedRenditions(preprocessed: ImagePreprocessed): readonly string[] {
  return preprocessed.renditions ?? [];
}

export { requestedAnalyses };

/** True once every part the image needs has arrived (or preprocessing failed, so nothing else will come). */
export function isComplete(parts: ImageParts): boolean {
  const { preprocessed } = parts;
  if (!preprocessed) return false;
  if (preprocessed.status !== 'completed') return true;
  if (!requestedAnalyses(preprocessed).every((name) => parts[name] !== undefined)) return false;
  if (requestedRenditions(preprocessed).length > 0 && parts.transform === undefined) return false;
  return !requestsFeatures(preprocessed) || parts.features !== undefined;
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
  // An analysis whose outcome is here was asked for, even when the latest preprocess outcome is a re-run's that asked
  // for another analysis alone (a reprocess re-runs one stage): the image's other results stay part of its analysis.
  const requested = preprocessed
    ? ANALYSES.filter((name) => requestedAnalyses(preprocessed).includes(name) || parts[name] !== undefined)
    : [];
  const preprocessReport = report(preprocessed, 'pending');
  const analysisReport = (name: AnalysisName): StageReport => {
    if (!requested.includes(name)) return { status: 'skipped' };
    if (preprocessReport.status !== 'completed') return dependencyFailed(preprocessReport);
    return report(parts[name], 'pending');
  };
  // Like an analysis, transform stays part of the image once its outcome is here (a re-run's preprocess asks for none).
  const transformRequested =
    parts.transform !== undefined || (preprocessed !== undefined && requestedRenditions(preprocessed).length > 0);
  const transform = transformRequested
    ? preprocessReport.status === 'completed'
      ? report(parts.transform, 'pending')
      : dependencyFailed(preprocessReport)
    : undefined;
  // The same for features: part of the image once asked for or once its outcome is here.
  const featuresRequested =
    parts.features !== undefined || (preprocessed !== undefined && requestsFeatures(preprocessed));
  const featuresStage = featuresRequested
    ? preprocessReport.status === 'completed'
      ? report(parts.features, 'pending')
      : dependencyFailed(preprocessReport)
    : undefined;
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
    status: overallStatus(preprocessReport, [
      stages.detect,
      stages.faces,
      stages.ocr,
      ...(transform ? [transform] : []),
      ...(featuresStage ? [featuresStage] : []),
    ]),
    ...(preprocessed?.image ? { image: preprocessed.image } : {}),
    labels: labelsFromObjects(objects),
    objects,
    faces,
    text,
    textInObjects: textInObjects(text.lines, objects),
    stages,
    attributes: preprocessed?.attributes ?? {},
    renditions: transform?.status === 'completed' ? (parts.transform?.renditions ?? []) : [],
    ...(transform ? { transform } : {}),
    ...(featuresStage?.status === 'completed' && parts.features?.features ? { features: parts.features.features } : {}),
    ...(featuresStage ? { featuresStage } : {}),
  };
}

function dependencyFailed(preprocess: StageReport): StageReport {
  const cause = preprocess.error ? ` (${preprocess.error.code})` : '';
  return { status: 'failed', error: { code: 'STAGE_DEPENDENCY_FAILED', message: `preprocess failed${cause}` } };
}

/**
 * What an emitted analysis says, as a digest: the same for two joins of the same parts whenever they are made (the
 * event's time, tenant and aggregate's own duration left out), different when any stage's outcome differs. Aggregate
 * emits again when the join of an image's parts no longer matches what it last emitted (a stage re-run by reprocess),
 * and not for a replayed part.
 */
export function analysisDigest(analysis: ImageAnalysis & { occurredAt?: number; tenantId?: string }): string {
  const { occurredAt: _occurredAt, tenantId: _tenantId, ...rest } = analysis;
  const { durationMs: _durationMs, ...aggregate } = rest.stages.aggregate;
  const stable = { ...rest, stages: { ...rest.stages, aggregate } };
  return createHash('sha256').update(canonicalJson(stable)).digest('hex');
}

/** JSON with every object's keys in sorted order, so equal values give equal text whatever order built them. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
