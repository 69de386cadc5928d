import {
  type ImageAnalysis,
  type Label,
  STAGES,
  type StageError,
  type StageName,
  sortLabels,
} from '@imgpipe/contracts';
import { ImgpipeError, toImgpipeError } from '@imgpipe/core';
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { canonicalImageId } from './image-id.ts';
import {
  applyAnalysis,
  applyStage,
  applyUpload,
  type ImageState,
  imageChanged,
  imageRowChanged,
  newImageState,
  type OutputRows,
  type ResultsWrite,
  type RowTable,
  type StageRecord,
  tablesNeeded,
  type UploadRecord,
} from './image-state.ts';
import {
  detectionRow,
  faceRow,
  labelRow,
  textLineRow,
  toDetectedFace,
  toDetectedObject,
  toLabel,
  toTextLine,
} from './rows.ts';
import type { Database, ImageRow, ImageStageRow } from './schema.ts';

export type { BlobReference, ResultsWrite, StageRecord, UploadRecord } from './image-state.ts';

export interface WriteResult {
  imageId: string;
  tenantId: string;
  /** False when the call changed nothing (a replay): the caller can skip refreshing caches and notifying. */
  changed: boolean;
  status: ImageRow['status'];
}

/** What one `apply` did: per image, per write, and the writes it refused. */
export interface BatchWriteResult {
  /** Every image the applied writes touched, once, in order of first appearance. */
  images: WriteResult[];
  /** Per write (same index as given): whether it changed its image; false for refused writes. */
  changed: boolean[];
  /** Writes left out because they can never apply (not a UUID, another tenant's image); the rest were applied. */
  rejected: { index: number; error: ImgpipeError }[];
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

/** How a write would create the image's row if it is the first news of the image. */
interface ImageTarget {
  imageId: string;
  tenantId: string;
  createdAt: Date;
  deadlineAt: Date;
  rows: Set<RowTable>;
  labels: boolean;
}

/**
 * Materialises every pipeline outcome into PostgreSQL. `apply` takes a batch of writes and runs them in ONE
 * transaction: it creates the rows of images seen for the first time, locks every image the batch touches (in id
 * order, so concurrent batches cannot deadlock), loads their rows with one query per table, folds the writes in
 * order through the rules of image-state.ts, and writes back only what changed with multi-row statements. Replays
 * change nothing; events received out of order across topics converge on the same rows; and a batch converges on
 * the rows of its writes applied one by one. The record* methods are batches of one.
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
    return this.#one({ kind: 'upload', upload });
  }

  /** One stage's report and output; see StageRecord. A failed preprocess fails the whole image. */
  recordStage(outcome: StageRecord): Promise<WriteResult> {
    return this.#one({ kind: 'stage', outcome });
  }

  /** A stage gave up on the image (its dead-letter event); shorthand for recordStage with a failed report. */
  recordFailure(imageId: string, tenantId: string, stage: StageName, error: StageError): Promise<WriteResult> {
    return this.recordStage({ imageId, tenantId, stage, report: { status: 'failed', error } });
  }

  /**
   * The aggregate's joined result: final status, labels and the analysis document; stages whose own events have
   * not arrived yet get their reports and rows from it (see image-state.ts).
   */
  recordAnalysis(analysis: ImageAnalysis, tenantId: string): Promise<WriteResult> {
    return this.#one({ kind: 'analysis', analysis, tenantId });
  }

  async #one(write: ResultsWrite): Promise<WriteResult> {
    const result = await this.apply([write]);
    const refused = result.rejected[0];
    if (refused) throw refused.error;
    return { ...result.images[0]!, changed: result.changed[0]! };
  }

  /** Applies the writes in order in one transaction; see the class comment. */
  async apply(writes: readonly ResultsWrite[]): Promise<BatchWriteResult> {
    const now = this.#clock();
    const rejected: BatchWriteResult['rejected'] = [];
    const accepted: { index: number; write: ResultsWrite; imageId: string }[] = [];
    const targets = new Map<string, ImageTarget>();
    writes.forEach((write, index) => {
      try {
        const imageId = canonicalImageId(imageIdOf(write));
        accepted.push({ index, write, imageId });
        const target = targets.get(imageId) ?? this.#target(write, imageId, now);
        targets.set(imageId, target);
        const needed = tablesNeeded(write);
        for (const table of needed.rows) target.rows.add(table);
        if (needed.labels) target.labels = true;
      } catch (error) {
        rejected.push({ index, error: toImgpipeError(error) });
      }
    });
    const changed = writes.map(() => false);
    if (accepted.length === 0) return { images: [], changed, rejected };

    return withDatabaseErrors(() =>
      this.#db.transaction().execute(async (trx) => {
        const states = await loadImages(trx, targets, now);
        const seen = new Set<string>();
        for (const { index, write, imageId } of accepted) {
          const state = states.get(imageId)!;
          const tenantId = tenantOf(write);
          if (state.image.tenant_id !== tenantId) {
            rejected.push({
              index,
              error: new ImgpipeError(
                'EVENT_TENANT_MISMATCH',
                `image ${imageId} belongs to another tenant than the event's (${tenantId})`,
                { details: { imageId, tenantId } },
              ),
            });
            continue;
          }
          const before = state.changes;
          applyWrite(state, write, this.#deadlineOf(write, now));
          changed[index] = state.changes > before || (state.inserted && !seen.has(imageId));
          seen.add(imageId);
        }
        await flush(trx, [...states.values()]);
        const images = [...targets.keys()]
          .filter((imageId) => seen.has(imageId))
          .map((imageId) => {
            const state = states.get(imageId)!;
            return {
              imageId,
              tenantId: state.image.tenant_id,
              changed: imageChanged(state),
              status: state.image.status,
            };
          });
        rejected.sort((a, b) => a.index - b.index);
        return { images, changed, rejected };
      }),
    );
  }

  #target(write: ResultsWrite, imageId: string, now: Date): ImageTarget {
    const occurredAt =
      write.kind === 'upload' ? write.upload.occurredAt : write.kind === 'stage' ? write.outcome.occurredAt : undefined;
    const createdAt = occurredAt ?? now;
    return {
      imageId,
      tenantId: tenantOf(write),
      createdAt,
      deadlineAt: write.kind === 'upload' ? this.#deadlineOf(write, now) : this.#after(createdAt),
      rows: new Set(),
      labels: false,
    };
  }

  #deadlineOf(write: ResultsWrite, now: Date): Date {
    if (write.kind !== 'upload') return this.#after(now);
    return write.upload.deadlineAt ?? this.#after(write.upload.occurredAt);
  }

  #after(instant: Date): Date {
    return new Date(instant.getTime() + this.#defaultDeadlineMs);
  }
}

function imageIdOf(write: ResultsWrite): string {
  if (write.kind === 'upload') return write.upload.imageId;
  if (write.kind === 'stage') return write.outcome.imageId;
  return write.analysis.imageId;
}

function tenantOf(write: ResultsWrite): string {
  if (write.kind === 'upload') return write.upload.tenantId;
  if (write.kind === 'stage') return write.outcome.tenantId;
  return write.tenantId;
}

function applyWrite(state: ImageState, write: ResultsWrite, deadlineAt: Date): void {
  if (write.kind === 'upload') applyUpload(state, write.upload, deadlineAt);
  else if (write.kind === 'stage') applyStage(state, write.outcome);
  else applyAnalysis(state, write.analysis);
}

function anyOf(column: string, ids: readonly string[]) {
  return sql<boolean>`${sql.ref(column)} = any(${ids}::uuid[])`;
}

function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

/**
 * Creates the rows of images seen for the first time (pending, with every stage pending: events reach the results
 * consumer from several topics, so a stage's output may precede the upload), locks every target image in id order,
 * and loads their stage rows and the output rows the writes will compare against.
 */
async function loadImages(
  trx: Trx,
  targets: ReadonlyMap<string, ImageTarget>,
  now: Date,
): Promise<Map<string, ImageState>> {
  const sorted = [...targets.values()].sort((a, b) => (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0));
  const ids = sorted.map((target) => target.imageId);
  const inserted = new Set<string>();
  for (const part of chunks(sorted)) {
    const rows = await trx
      .insertInto('images')
      .values(
        part.map((target) => ({
          id: target.imageId,
          tenant_id: target.tenantId,
          status: 'pending' as const,
          created_at: target.createdAt,
          updated_at: now,
          deadline_at: target.deadlineAt,
        })),
      )
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .execute();
    for (const row of rows) inserted.add(row.id);
  }
  for (const part of chunks([...inserted].flatMap((id) => STAGES.map((stage) => ({ id, stage }))))) {
    await trx
      .insertInto('image_stages')
      .values(part.map(({ id, stage }) => ({ image_id: id, stage, status: 'pending' as const, updated_at: now })))
      .onConflict((conflict) => conflict.columns(['image_id', 'stage']).doNothing())
      .execute();
  }
  const images = await trx.selectFrom('images').selectAll().where(anyOf('id', ids)).orderBy('id').forUpdate().execute();
  const stageRows = await trx.selectFrom('image_stages').selectAll().where(anyOf('image_id', ids)).execute();

  // Images created just now have no output rows; the others' rows are loaded where a write will compare them.
  const existing = sorted.filter((target) => !inserted.has(target.imageId));
  const needing = (table: RowTable) =>
    existing.filter((target) => target.rows.has(table)).map((target) => target.imageId);
  const detections = await loadRows(trx, 'detections', needing('detections'), toDetectedObject);
  const faces = await loadRows(trx, 'faces', needing('faces'), toDetectedFace);
  const lines = await loadRows(trx, 'text_lines', needing('text_lines'), toTextLine);
  const labels = await loadLabels(
    trx,
    existing.filter((target) => target.labels).map((target) => target.imageId),
  );

  const stagesOf = new Map<string, ImageStageRow[]>();
  for (const row of stageRows) stagesOf.set(row.image_id, [...(stagesOf.get(row.image_id) ?? []), row]);
  const states = new Map<string, ImageState>();
  for (const image of images) {
    const target = targets.get(image.id);
    const fresh = inserted.has(image.id);
    const rows: Partial<OutputRows> = {};
    if (target?.rows.has('detections')) rows.detections = fresh ? [] : (detections.get(image.id) ?? []);
    if (target?.rows.has('faces')) rows.faces = fresh ? [] : (faces.get(image.id) ?? []);
    if (target?.rows.has('text_lines')) rows.text_lines = fresh ? [] : (lines.get(image.id) ?? []);
    states.set(
      image.id,
      newImageState({
        image,
        inserted: fresh,
        stages: stagesOf.get(image.id) ?? [],
        rows,
        labels: target?.labels ? (fresh ? [] : (labels.get(image.id) ?? [])) : undefined,
        now,
      }),
    );
  }
  return states;
}

async function loadRows<Table extends RowTable>(
  trx: Trx,
  table: Table,
  ids: readonly string[],
  fromRow: (row: never) => OutputRows[Table][number],
): Promise<Map<string, OutputRows[Table]>> {
  const byImage = new Map<string, OutputRows[Table]>();
  if (ids.length === 0) return byImage;
  // kysely cannot follow column types through a generic table name; fromRow carries the checking.
  const rows = (await (trx as unknown as Kysely<Record<RowTable, { image_id: string; ordinal: number }>>)
    .selectFrom(table as RowTable)
    .selectAll()
    .where(anyOf('image_id', ids))
    .orderBy('image_id')
    .orderBy('ordinal')
    .execute()) as { image_id: string }[];
  for (const row of rows) {
    const items = byImage.get(row.image_id) ?? ([] as unknown as OutputRows[Table]);
    (items as unknown[]).push(fromRow(row as never));
    byImage.set(row.image_id, items);
  }
  return byImage;
}

async function loadLabels(trx: Trx, ids: readonly string[]): Promise<Map<string, Label[]>> {
  const byImage = new Map<string, Label[]>();
  if (ids.length === 0) return byImage;
  const rows = await trx.selectFrom('image_labels').selectAll().where(anyOf('image_id', ids)).execute();
  for (const row of rows) byImage.set(row.image_id, [...(byImage.get(row.image_id) ?? []), toLabel(row)]);
  for (const labels of byImage.values()) sortLabels(labels);
  return byImage;
}

/** Writes back what the fold changed: image rows, stage rows, output rows and labels, a few statements in all. */
async function flush(trx: Trx, states: readonly ImageState[]): Promise<void> {
  await flushImages(trx, states);
  const stageRows = states.flatMap((state) => [...state.changedStages].map((stage) => state.stages.get(stage)!));
  for (const part of chunks(stageRows)) {
    await trx
      .insertInto('image_stages')
      .values(part)
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
  }
  await replaceOutputRows(trx, states, 'detections', (id, items) => items.map((item, i) => detectionRow(id, i, item)));
  await replaceOutputRows(trx, states, 'faces', (id, items) => items.map((item, i) => faceRow(id, i, item)));
  await replaceOutputRows(trx, states, 'text_lines', (id, items) => items.map((item, i) => textLineRow(id, i, item)));
  const labelled = states.filter((state) => state.labelsChanged);
  if (labelled.length > 0) {
    await trx
      .deleteFrom('image_labels')
      .where(
        anyOf(
          'image_id',
          labelled.map((state) => state.image.id),
        ),
      )
      .execute();
    const rows = labelled.flatMap((state) => (state.labels ?? []).map((label) => labelRow(state.image.id, label)));
    for (const part of chunks(rows)) await trx.insertInto('image_labels').values(part).execute();
  }
}

/**
 * Updates the image rows that changed. Rows whose changed columns are the same set share one multi-row upsert
 * (a batch of one event kind has one or two such sets), and only changed columns are written.
 */
async function flushImages(trx: Trx, states: readonly ImageState[]): Promise<void> {
  const groups = new Map<string, ImageState[]>();
  for (const state of states) {
    if (!imageRowChanged(state)) continue;
    // updated_at is the image's version (the cache keeps the newest view): strictly increasing whatever the clocks.
    const updatedAt = state.inserted
      ? state.now
      : new Date(Math.max(state.now.getTime(), state.image.updated_at.getTime() + 1));
    state.image.updated_at = updatedAt;
    const key = Object.keys(state.patch).sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), state]);
  }
  for (const [key, group] of groups) {
    const columns = key === '' ? [] : key.split(',');
    for (const part of chunks(group)) {
      await trx
        .insertInto('images')
        .values(
          part.map((state) => ({
            id: state.image.id,
            tenant_id: state.image.tenant_id,
            ...(state.patch as Record<string, never>),
            updated_at: state.image.updated_at,
          })),
        )
        .onConflict((conflict) =>
          conflict
            .column('id')
            .doUpdateSet((eb) =>
              Object.fromEntries(
                [...columns, 'updated_at'].map((column) => [
                  column,
                  eb.ref(`excluded.${column}` as 'excluded.updated_at'),
                ]),
              ),
            ),
        )
        .execute();
    }
  }
}

async function replaceOutputRows<Table extends RowTable>(
  trx: Trx,
  states: readonly ImageState[],
  table: Table,
  toRows: (imageId: string, items: OutputRows[Table]) => Insertable<Database[Table]>[],
): Promise<void> {
  const replaced = states.filter((state) => state.changedRows.has(table));
  if (replaced.length === 0) return;
  const db = trx as unknown as Kysely<Record<RowTable, { image_id: string }>>;
  await db
    .deleteFrom(table as RowTable)
    .where(
      anyOf(
        'image_id',
        replaced.map((state) => state.image.id),
      ),
    )
    .execute();
  const rows = replaced.flatMap((state) => toRows(state.image.id, state.rows[table]!));
  for (const part of chunks(rows)) {
    await db
      .insertInto(table as RowTable)
      .values(part as unknown as { image_id: string }[])
      .execute();
  }
}
