import { type ImageAnalysis, type Label, type StageError, type StageName, sortLabels } from '@imgpipe/contracts';
import { ImgpipeError, toImgpipeError } from '@imgpipe/core';
import { type Insertable, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { canonicalImageId } from './image-id.ts';
import {
  applyAnalysis,
  applyStage,
  applyUpload,
  type ImageState,
  imageChanged,
  imageRowChanged,
  needsOf,
  newImageState,
  type OutputRows,
  pendingStageRows,
  type ResultsWrite,
  type RowTable,
  type StageRecord,
  type UploadRecord,
} from './image-state.ts';
import {
  detectionRow,
  faceRow,
  labelRow,
  renditionRow,
  textLineRow,
  toRendition,
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
  stages: Set<StageName>;
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

  /**
   * Applies the writes in order in one transaction; see the class comment. `durable: false` commits without waiting
   * for the WAL flush (synchronous_commit off): only for writes that can be derived again from Kafka, such as the
   * API's pending row of an upload whose ImageUploaded the results service also records. A crash can lose such a
   * commit, never corrupt or reorder anything.
   */
  async apply(writes: readonly ResultsWrite[], options: { durable?: boolean } = {}): Promise<BatchWriteResult> {
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
        const needs = needsOf(write);
        for (const stage of needs.stages) target.stages.add(stage);
        for (const table of needs.rows) target.rows.add(table);
        if (needs.labels) target.labels = true;
      } catch (error) {
        rejected.push({ index, error: toImgpipeError(error) });
      }
    });
    const changed = writes.map(() => false);
    if (accepted.length === 0) return { images: [], changed, rejected };

    return withDatabaseErrors(() =>
      this.#db.transaction().execute(async (trx) => {
        if (options.durable === false) await sql`set local synchronous_commit to off`.execute(trx);
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
      stages: new Set(),
      rows: new Set(),
      labels: false,
    };
  }

  /** The repository's clock: the `now` of a batch (updated_at of what it writes). */
  now(): Date {
    return this.#clock();
  }

  /** The deadline `apply` gives an image created by this upload (upload-insert.ts creates such rows itself). */
  uploadDeadline(upload: UploadRecord): Date {
    return upload.deadlineAt ?? this.#after(upload.occurredAt);
  }

  #deadlineOf(write: ResultsWrite, now: Date): Date {
    return write.kind === 'upload' ? this.uploadDeadline(write.upload) : this.#after(now);
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
 * Locks every target image in id order (concurrent batches cannot deadlock), creates the rows of images seen for
 * the first time (pending, with every stage pending: events reach the results consumer from several topics, so a
 * stage's output may precede the upload), and loads the stage rows and output rows the writes will compare against.
 */
async function loadImages(
  trx: Trx,
  targets: ReadonlyMap<string, ImageTarget>,
  now: Date,
): Promise<Map<string, ImageState>> {
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const lock = async (ids: readonly string[]): Promise<ImageRow[]> =>
    ids.length === 0
      ? []
      : trx.selectFrom('images').selectAll().where(anyOf('id', ids)).orderBy('id').forUpdate().execute();
  const images = await lock([...targets.keys()].sort(byId));
  const found = new Set(images.map((image) => image.id));
  const missing = [...targets.values()].filter((target) => !found.has(target.imageId));
  missing.sort((a, b) => byId(a.imageId, b.imageId));
  const inserted = new Set<string>();
  for (const part of chunks(missing)) {
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
      .returningAll()
      .execute();
    for (const row of rows) {
      inserted.add(row.id);
      images.push(row);
    }
  }
  // Created meanwhile by a concurrent transaction that has committed: lock them as existing images.
  images.push(...(await lock(missing.filter((target) => !inserted.has(target.imageId)).map((t) => t.imageId))));
  const freshStages = [...inserted].flatMap((id) => pendingStageRows(id, now));
  for (const part of chunks(freshStages)) {
    await trx
      .insertInto('image_stages')
      .values(part)
      .onConflict((conflict) => conflict.columns(['image_id', 'stage']).doNothing())
      .execute();
  }

  // Images created just now have no rows yet; the others' rows are loaded where a write will read them.
  const existing = [...targets.values()].filter((target) => !inserted.has(target.imageId));
  const loaded = await loadRowsOf(trx, existing);
  const states = new Map<string, ImageState>();
  for (const image of images) {
    const target = targets.get(image.id)!;
    const fresh = inserted.has(image.id);
    const found = loaded.get(image.id);
    const rows: Partial<OutputRows> = {};
    for (const table of target.rows) rows[table] = (found?.[table] ?? []) as never;
    states.set(
      image.id,
      newImageState({
        image,
        inserted: fresh,
        stages: fresh ? pendingStageRows(image.id, now) : (found?.stages ?? []),
        rows,
        labels: target.labels ? (found?.labels ?? []) : undefined,
        now,
      }),
    );
  }
  return states;
}

interface LoadedRows extends OutputRows {
  stages: ImageStageRow[];
  labels: Label[];
}

/**
 * The stage rows, output rows and labels the targets' writes need, in one statement (one round trip): per image,
 * each table's rows aggregated as JSON (PostgreSQL prints floats exactly). A statement of its own after the lock, so
 * it sees everything committed before the lock was granted.
 */
async function loadRowsOf(trx: Trx, targets: readonly ImageTarget[]): Promise<Map<string, LoadedRows>> {
  const loaded = new Map<string, LoadedRows>();
  if (targets.length === 0) return loaded;
  const ids = targets.map((target) => target.imageId);
  const stages = [...new Set(targets.flatMap((target) => [...target.stages]))];
  const needing = (table: RowTable) => targets.filter((target) => target.rows.has(table)).map((t) => t.imageId);
  const labelled = targets.filter((target) => target.labels).map((target) => target.imageId);
  const rowsOf = (table: RowTable) => {
    const wanted = needing(table);
    return wanted.length === 0
      ? sql`null`
      : sql`case when x.id = any(${wanted}::uuid[]) then (select json_agg(r order by r.ordinal)
          from ${sql.table(table)} r where r.image_id = x.id) end`;
  };
  const { rows } = await sql<{
    id: string;
    stages: ImageStageRow[] | null;
    detections: Selectable<Database['detections']>[] | null;
    faces: Selectable<Database['faces']>[] | null;
    text_lines: Selectable<Database['text_lines']>[] | null;
    renditions: (Omit<Database['renditions'], 'bytes'> & { bytes: number })[] | null;
    labels: Selectable<Database['image_labels']>[] | null;
  }>`select x.id,
      (select json_agg(s) from image_stages s where s.image_id = x.id and s.stage = any(${stages}::text[])) as stages,
      ${rowsOf('detections')} as detections,
      ${rowsOf('faces')} as faces,
      ${rowsOf('text_lines')} as text_lines,
      ${rowsOf('renditions')} as renditions,
      ${
        labelled.length === 0
          ? sql`null`
          : sql`case when x.id = any(${labelled}::uuid[]) then (select json_agg(l) from image_labels l
              where l.image_id = x.id) end`
      } as labels
    from unnest(${ids}::uuid[]) as x(id)`.execute(trx);
  for (const row of rows) {
    loaded.set(row.id, {
      // updated_at arrives as JSON text; the fold never reads it, but keep the row's type honest.
      stages: (row.stages ?? []).map((stage) => ({ ...stage, updated_at: new Date(stage.updated_at) })),
      detections: (row.detections ?? []).map(toDetectedObject),
      faces: (row.faces ?? []).map(toDetectedFace),
      text_lines: (row.text_lines ?? []).map(toTextLine),
      renditions: (row.renditions ?? []).map(toRendition),
      labels: sortLabels((row.labels ?? []).map(toLabel)),
    });
  }
  return loaded;
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
  await replaceOutputRows(trx, states, 'renditions', (id, items) => items.map((item, i) => renditionRow(id, i, item)));
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
