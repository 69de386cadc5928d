import { isDeepStrictEqual } from 'node:util';
import {
  ANALYSES,
  type AnalysisName,
  type DetectedFace,
  type DetectedObject,
  type ImageAnalysis,
  type ImageInfo,
  type ImageStatus,
  type Label,
  type RecognizedText,
  STAGES,
  type StageError,
  type StageName,
  type StageReport,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { canonicalImageId } from './image-id.ts';
import {
  asStored,
  detectionRow,
  faceRow,
  labelRow,
  textLineRow,
  toDetectedFace,
  toDetectedObject,
  toLabel,
  toTextLine,
} from './rows.ts';
import { labelsFromObjects, sortLabels } from '@imgpipe/contracts';
import type { Database, ImageRow, ImagesTable, ImageStageRow } from './schema.ts';
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
  analyses: readonly AnalysisName[];
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

export interface WriteResult {
  imageId: string;
  tenantId: string;
  /** False when the call changed nothing (a replay): the caller can skip refreshing caches and notifying. */
  changed: boolean;
  status: ImageStatus;
}

export interface ResultsRepositoryOptions {
  /** Deadline of an image first seen through a stage event, before its upload event arrives. */
  defaultDeadlineMs?: number;
  clock?: () => Date;
}

export const DEFAULT_DEADLINE_MS = 15 * 60 * 1000;
/** Rows per INSERT statement: well under PostgreSQL's 65535 bind parameters with the widest table. */
const INSERT_CHUNK = 1000;

type Trx = Transaction<Database>;

/** What one transaction learns and changes about one image. */
interface ImageWrite {
  trx: Trx;
  image: ImageRow;
  /** This transaction created the image's row. */
  inserted: boolean;
  stages: Map<StageName, ImageStageRow>;
  now: Date;
  /** Columns of the image row that differ from what is stored, written once by flushImage. */
  patch: Record<string, unknown>;
  changed: boolean;
}

/**
 * Materialises every pipeline outcome into PostgreSQL. Every call is one transaction and an idempotent upsert:
 * replaying it, or receiving events out of order across topics, converges on the same rows. Each transaction
 * first locks the image's row, so writers of one image (and the deadline sweep) take turns.
 */
export class ResultsRepository {
  readonly #db: Kysely<Database>;
  readonly #defaultDeadlineMs: number;
  readonly #clock: () => Date;

  constructor(db: Kysely<Database>, options: ResultsRepositoryOptions = {}) {
    this.#db = db;
    this.#defaultDeadlineMs = options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** An image was uploaded: its row (pending) and one stage row per stage, skipped for analyses not asked for. */
  recordUpload(upload: UploadRecord): Promise<WriteResult> {
    const deadlineAt = upload.deadlineAt ?? new Date(upload.occurredAt.getTime() + this.#defaultDeadlineMs);
    return this.#write(upload.imageId, upload.tenantId, upload.occurredAt, deadlineAt, async (write) => {
      const { image } = write;
      const requested = ANALYSES.filter((analysis) => upload.analyses.includes(analysis));
      const firstUpload = image.uploaded_at === null;
      patchImage(write, {
        uploaded_at: firstUpload ? upload.occurredAt : undefined,
        source_name: image.source_name ?? upload.sourceName ?? null,
        content_type: image.content_type ?? upload.contentType ?? null,
        byte_size: image.byte_size === null ? (upload.size ?? null) : Number(image.byte_size),
        sha256: image.sha256 ?? upload.sha256?.toLowerCase() ?? null,
        blob_bucket: image.blob_bucket ?? upload.blob?.bucket ?? null,
        blob_key: image.blob_key ?? upload.blob?.key ?? null,
        requested_analyses: firstUpload ? [...requested] : undefined,
        created_at: new Date(Math.min(image.created_at.getTime(), upload.occurredAt.getTime())),
        // The upload's deadline overrides the default that a row created by an earlier stage event got.
        deadline_at: firstUpload ? deadlineAt : undefined,
      });
      for (const stage of STAGES) {
        const wanted = stage === 'preprocess' || stage === 'aggregate' || requested.includes(stage as AnalysisName);
        await putStage(write, stage, { status: wanted ? 'pending' : 'skipped' });
      }
    });
  }

  /** One stage's report and output; see StageRecord. A failed preprocess fails the whole image. */
  recordStage(outcome: StageRecord): Promise<WriteResult> {
    return this.#write(outcome.imageId, outcome.tenantId, outcome.occurredAt, undefined, async (write) => {
      const status = await putStage(write, outcome.stage, outcome.report);
      const completed = outcome.report.status === 'completed' && status === 'completed';
      if (completed) await writeStageOutput(write, outcome, { deriveLabels: true });
      if (outcome.report.status === 'failed' && status === 'failed') await settleAfterFailure(write, outcome.stage);
    });
  }

  /** A stage gave up on the image (its dead-letter event); shorthand for recordStage with a failed report. */
  recordFailure(imageId: string, tenantId: string, stage: StageName, error: StageError): Promise<WriteResult> {
    return this.recordStage({ imageId, tenantId, stage, report: { status: 'failed', error } });
  }

  /**
   * The aggregate's joined result: final status, labels, full text, the analysis document, and every stage's
   * report and rows (so the image is complete even if a stage's own event was lost or is still in flight).
   */
  recordAnalysis(analysis: ImageAnalysis, tenantId: string): Promise<WriteResult> {
    return this.#write(analysis.imageId, tenantId, undefined, undefined, async (write) => {
      const { imageId } = analysis;
      const outputs: StageRecord[] = [
        { imageId, tenantId, stage: 'preprocess', report: analysis.stages.preprocess, info: analysis.image },
        { imageId, tenantId, stage: 'detect', report: analysis.stages.detect, objects: analysis.objects },
        { imageId, tenantId, stage: 'faces', report: analysis.stages.faces, faces: analysis.faces },
        { imageId, tenantId, stage: 'ocr', report: analysis.stages.ocr, text: analysis.text },
        { imageId, tenantId, stage: 'aggregate', report: analysis.stages.aggregate },
      ];
      for (const outcome of outputs) {
        const status = await putStage(write, outcome.stage, outcome.report);
        if (outcome.report.status === 'completed' && status === 'completed') {
          await writeStageOutput(write, outcome, { deriveLabels: false });
        }
      }
      if (!imageStatusMayBecome(write.image.status, analysis.status)) return;
      await replaceLabels(write, analysis.labels);
      const stored = asStored(analysis);
      const error = analysis.status === 'completed' ? undefined : firstStageError(analysis.stages);
      patchImage(write, {
        status: analysis.status,
        source_name: write.image.source_name ?? analysis.sourceName ?? null,
        full_text: analysis.text.fullText,
        analysis: isDeepStrictEqual(write.image.analysis, stored) ? undefined : JSON.stringify(stored),
        error_code: error?.code ?? null,
        error_message: error?.message ?? null,
        completed_at: finishedAt(write, analysis.status),
      });
    });
  }

  async #write(
    givenImageId: string,
    tenantId: string,
    occurredAt: Date | undefined,
    deadlineAt: Date | undefined,
    work: (write: ImageWrite) => Promise<void>,
  ): Promise<WriteResult> {
    const imageId = canonicalImageId(givenImageId);
    return withDatabaseErrors(() =>
      this.#db.transaction().execute(async (trx) => {
        const now = this.#clock();
        const { image, inserted } = await lockImage(trx, {
          imageId,
          tenantId,
          now,
          createdAt: occurredAt ?? now,
          deadlineAt: deadlineAt ?? new Date((occurredAt ?? now).getTime() + this.#defaultDeadlineMs),
        });
        const stageRows = await trx.selectFrom('image_stages').selectAll().where('image_id', '=', imageId).execute();
        const write: ImageWrite = {
          trx,
          image,
          inserted,
          stages: new Map(stageRows.map((row) => [row.stage, row])),
          now,
          patch: {},
          changed: inserted,
        };
        await work(write);
        await flushImage(write);
        return { imageId, tenantId, changed: write.changed, status: write.image.status };
      }),
    );
  }
}

/**
 * Locks the image's row, creating a minimal pending one (with every stage pending) if this is the first event seen
 * for it: events reach the results consumer from several topics, so a stage's output may precede the upload.
 */
async function lockImage(
  trx: Trx,
  target: { imageId: string; tenantId: string; now: Date; createdAt: Date; deadlineAt: Date },
): Promise<{ image: ImageRow; inserted: boolean }> {
  const inserted = await trx
    .insertInto('images')
    .values({
      id: target.imageId,
      tenant_id: target.tenantId,
      status: 'pending',
      created_at: target.createdAt,
      updated_at: target.now,
      deadline_at: target.deadlineAt,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) {
    await trx
      .insertInto('image_stages')
      .values(
        STAGES.map((stage) => ({
          image_id: target.imageId,
          stage,
          status: 'pending' as const,
          updated_at: target.now,
        })),
      )
      .onConflict((conflict) => conflict.columns(['image_id', 'stage']).doNothing())
      .execute();
  }
  const image = await trx
    .selectFrom('images')
    .selectAll()
    .where('id', '=', target.imageId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (image.tenant_id !== target.tenantId) {
    throw new ImgpipeError(
      'EVENT_TENANT_MISMATCH',
      `image ${target.imageId} belongs to another tenant than the event's (${target.tenantId})`,
      { details: { imageId: target.imageId, tenantId: target.tenantId } },
    );
  }
  return { image, inserted: inserted !== undefined };
}

type ImagePatch = { [Column in keyof Updateable<ImagesTable>]?: Updateable<ImagesTable>[Column] | undefined };

/** Queues the columns that differ from the locked row (undefined: leave as is); flushImage writes them once. */
function patchImage(write: ImageWrite, patch: Omit<ImagePatch, 'id' | 'tenant_id' | 'updated_at'>): void {
  const current = write.image as unknown as Record<string, unknown>;
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
    write.patch[column] = value;
    current[column] = column === 'info' || column === 'analysis' ? JSON.parse(value as string) : value;
  }
}

async function flushImage(write: ImageWrite): Promise<void> {
  const patched = Object.keys(write.patch).length > 0;
  if (patched) write.changed = true;
  if (!write.changed || (write.inserted && !patched)) return;
  // updated_at is the image's version (the cache keeps the newest view): strictly increasing whatever the clocks.
  const updatedAt = write.inserted
    ? write.now
    : new Date(Math.max(write.now.getTime(), write.image.updated_at.getTime() + 1));
  await write.trx
    .updateTable('images')
    .set({ ...(write.patch as ImagePatch), updated_at: updatedAt })
    .where('id', '=', write.image.id)
    .execute();
  write.image.updated_at = updatedAt;
}

/**
 * Upserts a stage row if the status may move there (see status-order.ts) and something differs; returns the
 * stage's status afterwards.
 */
async function putStage(write: ImageWrite, stage: StageName, report: StageReport) {
  const current = write.stages.get(stage);
  if (current && !stageStatusMayBecome(current.status, report.status)) return current.status;
  const row = {
    image_id: write.image.id,
    stage,
    status: report.status,
    error_code: report.error?.code ?? null,
    error_message: report.error?.message ?? null,
    model_name: report.model?.name ?? null,
    model_version: report.model?.version ?? null,
    model_sha256: report.model?.sha256 ?? null,
    duration_ms: report.durationMs === undefined ? null : Math.round(report.durationMs),
    updated_at: write.now,
  };
  if (current && sameStage(current, row)) return current.status;
  await write.trx
    .insertInto('image_stages')
    .values(row)
    .onConflict((conflict) =>
      conflict.columns(['image_id', 'stage']).doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        error_code: eb.ref('excluded.error_code'),
        error_message: eb.ref('excluded.error_message'),
        model_name: eb.ref('excluded.model_name'),
        model_version: eb.ref('excluded.model_version'),
        model_sha256: eb.ref('excluded.model_sha256'),
        duration_ms: eb.ref('excluded.duration_ms'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
  write.stages.set(stage, row);
  write.changed = true;
  return row.status;
}

function sameStage(current: ImageStageRow, next: Omit<ImageStageRow, 'updated_at'>): boolean {
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

async function writeStageOutput(
  write: ImageWrite,
  outcome: StageRecord,
  options: { deriveLabels: boolean },
): Promise<void> {
  switch (outcome.stage) {
    case 'preprocess':
      if (outcome.info) writeImageInfo(write, outcome.info);
      return;
    case 'detect':
      if (!outcome.objects) return;
      await replaceRows(write, 'detections', outcome.objects, detectionRow, toDetectedObject);
      // Until the aggregate's labels arrive, the detections alone make the image findable by label.
      if (options.deriveLabels && write.image.analysis === null)
        await replaceLabels(write, labelsFromObjects(outcome.objects));
      return;
    case 'faces':
      if (outcome.faces) await replaceRows(write, 'faces', outcome.faces, faceRow, toDetectedFace);
      return;
    case 'ocr':
      if (!outcome.text) return;
      await replaceRows(write, 'text_lines', outcome.text.lines, textLineRow, toTextLine);
      patchImage(write, { full_text: outcome.text.fullText });
      return;
    case 'aggregate':
      return;
  }
}

function writeImageInfo(write: ImageWrite, info: ImageInfo): void {
  const stored = asStored(info);
  patchImage(write, {
    width: info.width,
    height: info.height,
    format: info.format,
    info: isDeepStrictEqual(write.image.info, stored) ? undefined : JSON.stringify(stored),
    byte_size: write.image.byte_size === null ? info.bytes : undefined,
    sha256: write.image.sha256 ?? info.sha256.toLowerCase(),
  });
}

type RowTable = 'detections' | 'faces' | 'text_lines';

/** The columns every per-image output table shares, through which replaceRows handles all three. */
interface OrdinalRow {
  image_id: string;
  ordinal: number;
  [column: string]: unknown;
}

/** Replaces an image's rows of one kind with the given items (ordinal = index), unless they are already those. */
async function replaceRows<Table extends RowTable, Item>(
  write: ImageWrite,
  table: Table,
  items: readonly Item[],
  toRow: (imageId: string, ordinal: number, item: Item) => Insertable<Database[Table]>,
  fromRow: (row: Selectable<Database[Table]>) => Item,
): Promise<void> {
  // kysely cannot follow column types through a generic table name; toRow and fromRow carry the checking.
  const trx = write.trx as unknown as Kysely<Record<RowTable, OrdinalRow>>;
  const imageId = write.image.id;
  const existing = await trx
    .selectFrom(table as RowTable)
    .selectAll()
    .where('image_id', '=', imageId)
    .orderBy('ordinal')
    .execute();
  const stored = existing.map((row) => fromRow(row as unknown as Selectable<Database[Table]>));
  if (isDeepStrictEqual(stored, asStored(items))) return;
  await trx
    .deleteFrom(table as RowTable)
    .where('image_id', '=', imageId)
    .execute();
  const rows = items.map((item, ordinal) => toRow(imageId, ordinal, item) as unknown as OrdinalRow);
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    await trx
      .insertInto(table as RowTable)
      .values(rows.slice(start, start + INSERT_CHUNK))
      .execute();
  }
  write.changed = true;
}

async function replaceLabels(write: ImageWrite, labels: readonly Label[]): Promise<void> {
  const { trx } = write;
  const imageId = write.image.id;
  const wanted = sortLabels(mergeLabels(labels));
  const existing = sortLabels(
    (await trx.selectFrom('image_labels').selectAll().where('image_id', '=', imageId).execute()).map(toLabel),
  );
  if (isDeepStrictEqual(existing, asStored(wanted))) return;
  await trx.deleteFrom('image_labels').where('image_id', '=', imageId).execute();
  if (wanted.length > 0) {
    await trx
      .insertInto('image_labels')
      .values(wanted.map((label) => labelRow(imageId, label)))
      .execute();
  }
  write.changed = true;
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
async function settleAfterFailure(write: ImageWrite, stage: StageName): Promise<void> {
  if (write.image.status !== 'pending' || (stage !== 'preprocess' && stage !== 'aggregate')) return;
  const failure = write.stages.get(stage)!;
  if (stage === 'preprocess') {
    for (const other of STAGES) {
      const row = write.stages.get(other);
      if (other === stage || (row && row.status !== 'pending' && row.status !== 'running')) continue;
      await putStage(write, other, {
        status: 'failed',
        error: { code: 'STAGE_DEPENDENCY_FAILED', message: `preprocess failed (${failure.error_code})` },
      });
    }
  }
  const anyCompleted = [...write.stages.values()].some((row) => row.status === 'completed');
  const status: ImageStatus = stage === 'aggregate' && anyCompleted ? 'partial' : 'failed';
  patchImage(write, {
    status,
    error_code: failure.error_code,
    error_message: failure.error_message,
    completed_at: finishedAt(write, status),
  });
}

function finishedAt(write: ImageWrite, status: ImageStatus): Date | null {
  if (status === 'pending') return null;
  return write.image.status === status && write.image.completed_at ? write.image.completed_at : write.now;
}

function firstStageError(stages: Record<StageName, StageReport>): StageError | undefined {
  for (const stage of STAGES) {
    if (stages[stage].status === 'failed') return stages[stage].error;
  }
  return undefined;
}
