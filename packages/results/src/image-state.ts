/**
 * The rules of the results store, applied to one image's rows held in memory: what an upload, a stage outcome and
 * the aggregate's analysis do to the image row, its stage rows and its output rows. No I/O: the repository loads
 * the rows of every image a batch touches, folds the batch's writes in order through these functions, and writes
 * back only what changed. A batch of one and a batch of many run the same rules, so they converge on the same rows.
 *
 * Which event owns which rows (packages/results/README.md): a stage's own event owns its stage row and its output
 * rows (preprocess: the image's dimensions and info; detect: detections; faces: faces; ocr: text lines and the full
 * text); ImageAnalyzed owns the image's final status, its labels and the analysis document, and fills a stage's row
 * and rows only while that stage's own event has not arrived (the stage is still pending or running).
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type AnalysisName,
  canonicalOcrLanguages,
  type DetectedCode,
  type DetectedFace,
  type DetectedObject,
  type ImageAnalysis,
  type ImageInfo,
  type ImageStatus,
  type Label,
  labelsFromObjects,
  type RecognizedText,
  type Rendition,
  STAGES,
  type StageError,
  type StageName,
  type StageReport,
  sortLabels,
  type TextLine,
  UPLOAD_ANALYSES,
  type UploadAnalysisName,
} from '@imgpipe/contracts';
import type { Updateable } from 'kysely';
import { asStored } from './rows.ts';
import type { ImageRow, ImagesTable, ImageStageRow } from './schema.ts';
import { perceptualHashSegments } from './similar-images.ts';
import { imageStatusMayBecome, stageStatusMayBecome } from './status-order.ts';

export interface BlobReference {
  bucket: string;
  key: string;
}

export interface UploadRecord {
  imageId: string;
  tenantId: string;
  sourceName?: string;
  contentType?: string;
  /** Bytes. */
  size?: number;
  sha256?: string;
  /** Where the bytes live; absent while a direct producer's inline image has not been moved to storage yet. */
  blob?: BlobReference;
  /** What the upload asked for (askedAnalyses): the model analyses it waits for, and `features` when asked. */
  analyses: readonly UploadAnalysisName[];
  /** The rendition presets the upload asked for; none when absent. */
  renditions?: readonly string[];
  /** The producer's own metadata (ImageUploaded.attributes); none when absent. */
  attributes?: Readonly<Record<string, string>>;
  /** The OCR model set the upload named (ImageUploaded.ocrModel); absent: the deployment's. */
  ocrModel?: string;
  /** The languages the upload restricted OCR to (ImageUploaded.ocrLanguages); absent: none. */
  ocrLanguages?: readonly string[];
  occurredAt: Date;
  /** When the deadline sweep gives up on the image; defaults to occurredAt + the repository's default deadline. */
  deadlineAt?: Date;
}

interface StageOutcomeBase {
  imageId: string;
  tenantId: string;
  report: StageReport;
  /** When the stage produced the event; dates the image row if this event is the first one seen for it. */
  occurredAt?: Date;
}

/**
 * One stage's outcome as the results consumer sees it. The payload replaces that stage's rows when the report says
 * completed; leave it out to record a status alone (running, failed).
 */
export type StageRecord = StageOutcomeBase &
  (
    | { stage: 'preprocess'; info?: ImageInfo }
    | { stage: 'detect'; objects?: readonly DetectedObject[] }
    | { stage: 'faces'; faces?: readonly DetectedFace[] }
    | { stage: 'ocr'; text?: RecognizedText }
    | { stage: 'aggregate' }
  );

/** One write the repository applies: the three kinds of news the results service materialises. */
export type ResultsWrite =
  | { kind: 'upload'; upload: UploadRecord }
  | { kind: 'stage'; outcome: StageRecord }
  | { kind: 'analysis'; analysis: ImageAnalysis; tenantId: string };

export type RowTable = 'detections' | 'faces' | 'text_lines' | 'renditions';

/** The output rows of one image as the result contract's items, in ordinal order (as stored: see asStored). */
export interface OutputRows {
  detections: DetectedObject[];
  faces: DetectedFace[];
  text_lines: TextLine[];
  renditions: Rendition[];
}

/** One image's rows during a transaction, and what the writes applied so far changed. */
export interface ImageState {
  readonly image: ImageRow;
  /** This transaction created the image's row (and its pending stage rows). */
  readonly inserted: boolean;
  /** The stage rows the writes need (see needsOf); a write never touches a stage that was not loaded. */
  readonly stages: Map<StageName, ImageStageRow>;
  /** Output rows and labels as loaded; a table absent here was not loaded and must not be needed. */
  readonly rows: Partial<OutputRows>;
  labels: Label[] | undefined;
  readonly now: Date;
  /** Columns of the image row that differ from what is stored. */
  readonly patch: ImagePatch;
  readonly changedStages: Set<StageName>;
  readonly changedRows: Set<RowTable>;
  labelsChanged: boolean;
  /** Changes applied so far (each stage row, row set, label set or image column counts one). */
  changes: number;
}

export type ImagePatch = {
  [Column in keyof Updateable<ImagesTable>]?: Updateable<ImagesTable>[Column] | undefined;
};

/** The stage rows of an image its first news has just created: every stage pending. */
export function pendingStageRows(imageId: string, now: Date): ImageStageRow[] {
  return STAGES.map((stage) => ({
    image_id: imageId,
    stage,
    status: 'pending',
    error_code: null,
    error_message: null,
    model_name: null,
    model_version: null,
    model_sha256: null,
    duration_ms: null,
    updated_at: now,
  }));
}

export function newImageState(input: {
  image: ImageRow;
  inserted: boolean;
  stages: readonly ImageStageRow[];
  rows: Partial<OutputRows>;
  labels: Label[] | undefined;
  now: Date;
}): ImageState {
  return {
    image: { ...input.image },
    inserted: input.inserted,
    stages: new Map(input.stages.map((row) => [row.stage, { ...row }])),
    rows: { ...input.rows },
    labels: input.labels,
    now: input.now,
    patch: {},
    changedStages: new Set(),
    changedRows: new Set(),
    labelsChanged: false,
    changes: 0,
  };
}

/** True when the image's row must be written: something changed beyond the row this transaction inserted as is. */
export function imageRowChanged(state: ImageState): boolean {
  return Object.keys(state.patch).length > 0 || (!state.inserted && state.changes > 0);
}

/** True when the transaction changed anything about the image (creating it counts). */
export function imageChanged(state: ImageState): boolean {
  return state.inserted || state.changes > 0;
}

/** What a write reads besides the image row: which stage rows, output rows and labels it may compare or change. */
export interface WriteNeeds {
  stages: readonly StageName[];
  rows: readonly RowTable[];
  labels: boolean;
}

export function needsOf(write: ResultsWrite): WriteNeeds {
  if (write.kind === 'analysis') {
    // Renditions only for an image that asked for them: the others read and write nothing more than before.
    const rows: RowTable[] = ['detections', 'faces', 'text_lines'];
    if (touchesRenditions(write.analysis)) rows.push('renditions');
    return { stages: STAGES, rows, labels: true };
  }
  if (write.kind === 'upload') return { stages: STAGES, rows: [], labels: false };
  const { stage, report } = write.outcome;
  // A failure may settle the image, which looks at every stage.
  if (report.status === 'failed') return { stages: STAGES, rows: [], labels: false };
  if (report.status !== 'completed') return { stages: [stage], rows: [], labels: false };
  switch (stage) {
    case 'detect':
      return { stages: [stage], rows: ['detections'], labels: true };
    case 'faces':
      return { stages: [stage], rows: ['faces'], labels: false };
    case 'ocr':
      return { stages: [stage], rows: ['text_lines'], labels: false };
    default:
      return { stages: [stage], rows: [], labels: false };
  }
}

function touchesRenditions(analysis: ImageAnalysis): boolean {
  return analysis.renditions.length > 0 || analysis.transform !== undefined;
}

/** An image was uploaded: its row (pending) and one stage row per stage, skipped for analyses not asked for. */
export function applyUpload(state: ImageState, upload: UploadRecord, deadlineAt: Date): void {
  const { image } = state;
  const requested = UPLOAD_ANALYSES.filter((analysis) => upload.analyses.includes(analysis));
  const firstUpload = image.uploaded_at === null;
  patchImage(state, {
    uploaded_at: firstUpload ? upload.occurredAt : undefined,
    source_name: image.source_name ?? upload.sourceName ?? null,
    content_type: image.content_type ?? upload.contentType ?? null,
    byte_size: image.byte_size === null ? (upload.size ?? null) : Number(image.byte_size),
    sha256: image.sha256 ?? upload.sha256?.toLowerCase() ?? null,
    blob_bucket: image.blob_bucket ?? upload.blob?.bucket ?? null,
    blob_key: image.blob_key ?? upload.blob?.key ?? null,
    attributes: attributesPatch(state, upload.attributes),
    requested_analyses: firstUpload ? [...requested] : undefined,
    requested_renditions: firstUpload && upload.renditions?.length ? [...new Set(upload.renditions)] : undefined,
    // Kept from the first upload that names one, as source_name is (a reprocess's upload names the same set again).
    requested_ocr_model: image.requested_ocr_model ?? upload.ocrModel ?? undefined,
    requested_ocr_languages: image.requested_ocr_languages ?? canonicalOcrLanguages(upload.ocrLanguages),
    created_at: new Date(Math.min(image.created_at.getTime(), upload.occurredAt.getTime())),
    // The upload's deadline overrides the default that a row created by an earlier stage event got.
    deadline_at: firstUpload ? deadlineAt : undefined,
  });
  for (const stage of STAGES) {
    const wanted = stage === 'preprocess' || stage === 'aggregate' || requested.includes(stage as AnalysisName);
    putStage(state, stage, { status: wanted ? 'pending' : 'skipped' });
  }
}

/** One stage's report and output; see StageRecord. A failed preprocess fails the whole image. */
export function applyStage(state: ImageState, outcome: StageRecord): void {
  const status = putStage(state, outcome.stage, outcome.report);
  if (outcome.report.status === 'completed' && status === 'completed') writeStageOutput(state, outcome, true);
  if (outcome.report.status === 'failed' && status === 'failed') settleAfterFailure(state, outcome.stage);
}

/**
 * The aggregate's joined result: the final status, labels and analysis document, and the aggregate stage's report.
 * A stage whose own event has not arrived yet (still pending or running) gets its report and rows from the
 * analysis, so the finished image is complete whatever order the topics are consumed in; a stage that already
 * reported keeps what its own event wrote.
 */
export function applyAnalysis(state: ImageState, analysis: ImageAnalysis): void {
  const { imageId } = analysis;
  const tenantId = state.image.tenant_id;
  const outputs: StageRecord[] = [
    { imageId, tenantId, stage: 'preprocess', report: analysis.stages.preprocess, info: analysis.image },
    { imageId, tenantId, stage: 'detect', report: analysis.stages.detect, objects: analysis.objects },
    { imageId, tenantId, stage: 'faces', report: analysis.stages.faces, faces: analysis.faces },
    { imageId, tenantId, stage: 'ocr', report: analysis.stages.ocr, text: analysis.text },
    { imageId, tenantId, stage: 'aggregate', report: analysis.stages.aggregate },
  ];
  for (const outcome of outputs) {
    const current = state.stages.get(outcome.stage)?.status;
    const ownEventArrived = current !== undefined && current !== 'pending' && current !== 'running';
    if (outcome.stage !== 'aggregate' && ownEventArrived) continue;
    const status = putStage(state, outcome.stage, outcome.report);
    if (outcome.report.status === 'completed' && status === 'completed') writeStageOutput(state, outcome, false);
  }
  if (!imageStatusMayBecome(state.image.status, analysis.status)) return;
  replaceLabels(state, analysis.labels);
  if (touchesRenditions(analysis)) {
    replaceRows(state, 'renditions', analysis.renditions);
    const report = analysis.transform ? asStored(analysis.transform) : null;
    if (!isDeepStrictEqual(state.image.transform, report)) {
      patchImage(state, { transform: report === null ? null : JSON.stringify(report) });
    }
  }
  if (analysis.featuresStage !== undefined || analysis.features !== undefined) {
    const summary = analysis.features ? asStored(analysis.features) : null;
    const report = analysis.featuresStage ? asStored(analysis.featuresStage) : null;
    patchImage(state, {
      features: isDeepStrictEqual(state.image.features, summary)
        ? undefined
        : summary === null
          ? null
          : JSON.stringify(summary),
      features_stage: isDeepStrictEqual(state.image.features_stage, report)
        ? undefined
        : report === null
          ? null
          : JSON.stringify(report),
    });
  }
  const stored = asStored(analysis);
  const error = analysis.status === 'completed' ? undefined : firstStageError(analysis.stages);
  patchImage(state, {
    status: analysis.status,
    source_name: state.image.source_name ?? analysis.sourceName ?? null,
    attributes: attributesPatch(state, analysis.attributes),
    analysis: isDeepStrictEqual(state.image.analysis, stored) ? undefined : JSON.stringify(stored),
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    completed_at: finishedAt(state, analysis.status),
  });
}

/** jsonb columns: patched as JSON text, held parsed in the row. */
const JSON_COLUMNS: ReadonlySet<string> = new Set([
  'info',
  'analysis',
  'attributes',
  'transform',
  'text_codes',
  'features',
  'features_stage',
]);

/**
 * The producer's attributes, kept from whichever event brings them first (the upload, or an ImageAnalyzed that
 * overtook it: both carry the same map), as source_name is; a row that has some keeps them. Undefined: no change.
 */
function attributesPatch(state: ImageState, attributes: Readonly<Record<string, string>> | undefined) {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  if (Object.keys(state.image.attributes).length > 0) return undefined;
  return JSON.stringify(attributes);
}

/** Queues the columns that differ from the current row (undefined: leave as is) and applies them to it. */
function patchImage(state: ImageState, patch: Omit<ImagePatch, 'id' | 'tenant_id' | 'updated_at'>): void {
  const current = state.image as unknown as Record<string, unknown>;
  for (const [column, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const now = current[column];
    const same =
      value instanceof Date && now instanceof Date
        ? value.getTime() === now.getTime()
        : column === 'byte_size'
          ? (now === null ? null : Number(now)) === value
          : isDeepStrictEqual(now, value);
    if (same) continue;
    (state.patch as Record<string, unknown>)[column] = value;
    current[column] = JSON_COLUMNS.has(column) ? JSON.parse(value as string) : value;
    state.changes += 1;
  }
}

/**
 * Sets a stage row if the status may move there (see status-order.ts) and something differs; returns the stage's
 * status afterwards.
 */
function putStage(state: ImageState, stage: StageName, report: StageReport): ImageStageRow['status'] {
  const current = state.stages.get(stage);
  if (current && !stageStatusMayBecome(current.status, report.status)) return current.status;
  const row: ImageStageRow = {
    image_id: state.image.id,
    stage,
    status: report.status,
    error_code: report.error?.code ?? null,
    error_message: report.error?.message ?? null,
    model_name: report.model?.name ?? null,
    model_version: report.model?.version ?? null,
    model_sha256: report.model?.sha256 ?? null,
    duration_ms: report.durationMs === undefined ? null : Math.round(report.durationMs),
    updated_at: state.now,
  };
  if (current && sameStage(current, row)) return current.status;
  state.stages.set(stage, row);
  state.changedStages.add(stage);
  state.changes += 1;
  return row.status;
}

function sameStage(current: ImageStageRow, next: ImageStageRow): boolean {
  return (
    current.status === next.status &&
    current.error_code === next.error_code &&
    current.error_message === next.error_message &&
    current.model_name === next.model_name &&
    current.model_version === next.model_version &&
    current.model_sha256 === next.model_sha256 &&
    current.duration_ms === next.duration_ms
  );
}

/** `deriveLabels`: detections stand in for labels until the analysis (which owns them) arrives. */
function writeStageOutput(state: ImageState, outcome: StageRecord, deriveLabels: boolean): void {
  switch (outcome.stage) {
    case 'preprocess':
      if (outcome.info) writeImageInfo(state, outcome.info);
      return;
    case 'detect':
      if (!outcome.objects) return;
      replaceRows(state, 'detections', outcome.objects);
      // Until the aggregate's labels arrive, the detections alone make the image findable by label.
      if (deriveLabels && state.image.analysis === null) replaceLabels(state, labelsFromObjects(outcome.objects));
      return;
    case 'faces':
      if (outcome.faces) replaceRows(state, 'faces', outcome.faces);
      return;
    case 'ocr':
      if (!outcome.text) return;
      replaceRows(state, 'text_lines', outcome.text.lines);
      patchImage(state, {
        full_text: outcome.text.fullText,
        text_orientation: outcome.text.orientation ?? null,
        text_codes: storedCodes(state, outcome.text.codes),
      });
      return;
    case 'aggregate':
      return;
  }
}

/** The codes as the column's JSON text, undefined when they are what is stored (null when OCR did not look). */
function storedCodes(state: ImageState, codes: readonly DetectedCode[] | undefined): string | null | undefined {
  const stored = codes === undefined ? null : asStored(codes);
  if (isDeepStrictEqual(state.image.text_codes, stored)) return undefined;
  return stored === null ? null : JSON.stringify(stored);
}

function writeImageInfo(state: ImageState, info: ImageInfo): void {
  const stored = asStored(info);
  patchImage(state, {
    width: info.width,
    height: info.height,
    format: info.format,
    info: isDeepStrictEqual(state.image.info, stored) ? undefined : JSON.stringify(stored),
    byte_size: state.image.byte_size === null ? info.bytes : undefined,
    sha256: state.image.sha256 ?? info.sha256.toLowerCase(),
    ...hashSegmentColumns(info.perceptualHash),
  });
}

/** The perceptual hash's segment columns, the similar-images index (all null for a hash that is not 16 hex digits). */
function hashSegmentColumns(hash: string) {
  const segments = perceptualHashSegments(hash);
  return {
    phash_0: segments?.[0] ?? null,
    phash_1: segments?.[1] ?? null,
    phash_2: segments?.[2] ?? null,
    phash_3: segments?.[3] ?? null,
  };
}

/** Replaces an image's rows of one kind with the given items (ordinal = index), unless they are already those. */
function replaceRows<Table extends RowTable>(
  state: ImageState,
  table: Table,
  items: readonly OutputRows[Table][number][],
) {
  const current = state.rows[table];
  if (current === undefined) throw new Error(`internal: ${table} of image ${state.image.id} were not loaded`);
  const wanted = asStored(items) as OutputRows[Table];
  if (isDeepStrictEqual(current, wanted)) return;
  state.rows[table] = wanted;
  state.changedRows.add(table);
  state.changes += 1;
}

function replaceLabels(state: ImageState, labels: readonly Label[]): void {
  if (state.labels === undefined) throw new Error(`internal: labels of image ${state.image.id} were not loaded`);
  const wanted = asStored(sortLabels(mergeLabels(labels)));
  if (isDeepStrictEqual(state.labels, wanted)) return;
  state.labels = wanted;
  state.labelsChanged = true;
  state.changes += 1;
}

/** One row per label even if a producer repeated one. */
function mergeLabels(labels: readonly Label[]): Label[] {
  const merged = new Map<string, Label>();
  for (const label of labels) {
    const seen = merged.get(label.label);
    merged.set(
      label.label,
      seen
        ? {
            label: label.label,
            count: Math.max(seen.count, label.count),
            confidence: Math.max(seen.confidence, label.confidence),
          }
        : { ...label },
    );
  }
  return [...merged.values()];
}

/**
 * A failed stage may settle the image: without preprocess nothing else can run, so the image fails and its other
 * unfinished stages fail as dependants; without aggregate no joined result comes, so the image settles on what
 * its stages produced.
 */
function settleAfterFailure(state: ImageState, stage: StageName): void {
  if (state.image.status !== 'pending' || (stage !== 'preprocess' && stage !== 'aggregate')) return;
  const failure = state.stages.get(stage)!;
  if (stage === 'preprocess') {
    for (const other of STAGES) {
      const row = state.stages.get(other);
      if (other === stage || (row && row.status !== 'pending' && row.status !== 'running')) continue;
      putStage(state, other, {
        status: 'failed',
        error: { code: 'STAGE_DEPENDENCY_FAILED', message: `preprocess failed (${failure.error_code})` },
      });
    }
  }
  const anyCompleted = [...state.stages.values()].some((row) => row.status === 'completed');
  const status: ImageStatus = stage === 'aggregate' && anyCompleted ? 'partial' : 'failed';
  patchImage(state, {
    status,
    error_code: failure.error_code,
    error_message: failure.error_message,
    completed_at: finishedAt(state, status),
  });
}

function finishedAt(state: ImageState, status: ImageStatus): Date | null {
  if (status === 'pending') return null;
  return state.image.status === status && state.image.completed_at ? state.image.completed_at : state.now;
}

function firstStageError(stages: Record<StageName, StageReport>): StageError | undefined {
  for (const stage of STAGES) {
    if (stages[stage].status === 'failed') return stages[stage].error;
  }
  return undefined;
}
