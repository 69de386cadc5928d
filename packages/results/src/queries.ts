import {
  type UploadAnalysisName,
  type ImageAnalysis,
  type ImageStatus,
  canonicalOcrLanguages,
  STAGES,
  type StageError,
  type StageName,
  type StageReport,
} from '@imgpipe/contracts';
import { type ErrorCode, ImgpipeError } from '@imgpipe/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import { isImageId } from './image-id.ts';
import { toDetectedFace, toDetectedObject, toLabel, toRendition, toTextLine } from './rows.ts';
import { sortLabels } from '@imgpipe/contracts';
import type {
  Database,
  DetectionsTable,
  FacesTable,
  ImageLabelsTable,
  ImageRow,
  ImageStageRow,
  TextLinesTable,
} from './schema.ts';

/** What a user reads about one image: the result contract, plus the record's bookkeeping. */
export interface ImageView extends ImageAnalysis {
  tenantId: string;
  contentType?: string;
  requestedAnalyses: UploadAnalysisName[];
  /** The rendition presets the upload asked for; empty when none. */
  requestedRenditions: string[];
  /** The OCR model set the upload named; absent when it named none (the deployment's set). */
  requestedOcrModel?: string;
  requestedOcrLanguages?: string[];
  /** Why the image as a whole failed or is partial (the first failed stage's error, or STAGE_TIMEOUT). */
  error?: StageError;
  createdAt: string;
  /** Changes whenever anything about the image changes: the view's version. */
  updatedAt: string;
  completedAt?: string;
  deadlineAt?: string;
}

export interface ImageSummary {
  imageId: string;
  sourceName?: string;
  /** The producer's own metadata, as in the image's view. */
  attributes: Record<string, string>;
  status: ImageStatus;
  width?: number;
  height?: number;
  format?: string;
  /** Label names, most instances first. */
  labels: string[];
  error?: StageError;
  createdAt: string;
  completedAt?: string;
}

export interface SearchImagesQuery {
  tenantId: string;
  /** Images with this label (exact name, as in `labels`). */
  label?: string;
  /** Words in the image's OCR text, in web-search syntax: `"exact phrase"`, `or`, `-excluded`. */
  text?: string;
  /** Images with a barcode or QR code whose decoded text is exactly this (text.codes[].text). */
  code?: string;
  status?: ImageStatus;
  /** Only images created at or after this instant. */
  since?: Date;
  /** From a previous page's nextCursor. */
  cursor?: string;
  /** 1-100, default 20. */
  limit?: number;
}

export interface SearchPage {
  items: ImageSummary[];
  /** Present when there may be more: pass it back as `cursor`. */
  nextCursor?: string;
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** One image as its tenant sees it; another tenant's id, or an id that is not a UUID, is simply not found. */
export async function getImage(
  db: Kysely<Database>,
  tenantId: string,
  imageId: string,
): Promise<ImageView | undefined> {
  if (!isImageId(imageId)) return undefined;
  // One snapshot, so a stage reported completed always comes with its rows.
  const read = db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only');
  return withDatabaseErrors(() =>
    read.execute(async (trx) => {
      const image = await trx
        .selectFrom('images')
        .selectAll()
        .where('id', '=', imageId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!image) return undefined;
      const stages = await trx.selectFrom('image_stages').selectAll().where('image_id', '=', imageId).execute();
      const objects = await trx
        .selectFrom('detections')
        .selectAll()
        .where('image_id', '=', imageId)
        .orderBy('ordinal')
        .execute();
      const faces = await trx
        .selectFrom('faces')
        .selectAll()
        .where('image_id', '=', imageId)
        .orderBy('ordinal')
        .execute();
      const lines = await trx
        .selectFrom('text_lines')
        .selectAll()
        .where('image_id', '=', imageId)
        .orderBy('ordinal')
        .execute();
      const labels = await trx.selectFrom('image_labels').selectAll().where('image_id', '=', imageId).execute();
      const renditions =
        image.requested_renditions.length === 0
          ? []
          : await trx.selectFrom('renditions').selectAll().where('image_id', '=', imageId).orderBy('ordinal').execute();
      return toImageView(image, { stages, objects, faces, lines, labels, renditions });
    }),
  );
}

interface ImageRows {
  stages: readonly ImageStageRow[];
  objects: readonly Selectable<DetectionsTable>[];
  faces: readonly Selectable<FacesTable>[];
  lines: readonly Selectable<TextLinesTable>[];
  labels: readonly Selectable<ImageLabelsTable>[];
  renditions: readonly Parameters<typeof toRendition>[0][];
}

function toImageView(image: ImageRow, rows: ImageRows): ImageView {
  return {
    imageId: image.id,
    tenantId: image.tenant_id,
    ...(image.source_name === null ? {} : { sourceName: image.source_name }),
    ...(image.content_type === null ? {} : { contentType: image.content_type }),
    attributes: image.attributes,
    status: image.status,
    requestedAnalyses: image.requested_analyses as UploadAnalysisName[],
    requestedRenditions: image.requested_renditions,
    ...(image.requested_ocr_model ? { requestedOcrModel: image.requested_ocr_model } : {}),
    ...(image.requested_ocr_languages ? { requestedOcrLanguages: image.requested_ocr_languages } : {}),
    ...(image.info === null ? {} : { image: image.info }),
    labels: sortLabels(rows.labels.map(toLabel)),
    objects: rows.objects.map(toDetectedObject),
    faces: rows.faces.map(toDetectedFace),
    text: {
      fullText: image.full_text ?? '',
      lines: rows.lines.map(toTextLine),
      ...(image.text_orientation === null ? {} : { orientation: image.text_orientation }),
      ...(image.text_codes === null ? {} : { codes: image.text_codes }),
    },
    textInObjects: image.analysis?.textInObjects ?? [],
    stages: stageReports(rows.stages),
    renditions: rows.renditions.map(toRendition),
    ...(image.transform === null ? {} : { transform: image.transform }),
    ...(image.features === null ? {} : { features: image.features }),
    ...(image.features_stage === null ? {} : { featuresStage: image.features_stage }),
    ...imageError(image),
    ...dates(image),
  };
}

/**
 * Several images at once, as getImage reads each, in ONE statement (so one snapshot and one round trip, whatever
 * their number): each image row with its stage, output and label rows aggregated as JSON (PostgreSQL prints floats
 * exactly). The results service refreshes every image a batch changed this way. Keyed by image id; ids of another
 * tenant are left out.
 */
export async function getImages(
  db: Kysely<Database>,
  images: readonly { tenantId: string; imageId: string }[],
): Promise<Map<string, ImageView>> {
  const askedBy = new Map<string, Set<string>>();
  for (const { tenantId, imageId } of images) {
    if (!isImageId(imageId)) continue;
    const id = imageId.toLowerCase();
    askedBy.set(id, (askedBy.get(id) ?? new Set()).add(tenantId));
  }
  const ids = [...askedBy.keys()];
  const views = new Map<string, ImageView>();
  if (ids.length === 0) return views;
  const rows = await withDatabaseErrors(() =>
    db
      .selectFrom('images as i')
      .selectAll('i')
      .select([
        sql<ImageStageRow[]>`coalesce((select json_agg(s) from image_stages s where s.image_id = i.id), '[]')`.as(
          'stage_rows',
        ),
        sql<Selectable<DetectionsTable>[]>`coalesce((select json_agg(d order by d.ordinal) from detections d
          where d.image_id = i.id), '[]')`.as('detection_rows'),
        sql<Selectable<FacesTable>[]>`coalesce((select json_agg(f order by f.ordinal) from faces f
          where f.image_id = i.id), '[]')`.as('face_rows'),
        sql<Selectable<TextLinesTable>[]>`coalesce((select json_agg(t order by t.ordinal) from text_lines t
          where t.image_id = i.id), '[]')`.as('line_rows'),
        sql<Selectable<ImageLabelsTable>[]>`coalesce((select json_agg(l) from image_labels l
          where l.image_id = i.id), '[]')`.as('label_rows'),
        // Only images that asked for renditions look for them.
        sql<Parameters<typeof toRendition>[0][]>`case when cardinality(i.requested_renditions) > 0 then
          coalesce((select json_agg(r order by r.ordinal) from renditions r where r.image_id = i.id), '[]')
          else '[]' end`.as('rendition_rows'),
      ])
      .where(sql<boolean>`i.id = any(${ids}::uuid[])`)
      .execute(),
  );
  for (const { stage_rows, detection_rows, face_rows, line_rows, label_rows, rendition_rows, ...image } of rows) {
    if (!askedBy.get(image.id)?.has(image.tenant_id)) continue;
    views.set(
      image.id,
      toImageView(image, {
        stages: stage_rows,
        objects: detection_rows,
        faces: face_rows,
        lines: line_rows,
        labels: label_rows,
        renditions: rendition_rows,
      }),
    );
  }
  return views;
}

function stageReports(rows: readonly ImageStageRow[]): Record<StageName, StageReport> {
  const byStage = new Map(rows.map((row) => [row.stage, row]));
  const reports = {} as Record<StageName, StageReport>;
  for (const stage of STAGES) {
    const row = byStage.get(stage);
    const report: StageReport = { status: row?.status ?? 'pending' };
    if (row?.error_code) report.error = { code: row.error_code as ErrorCode, message: row.error_message ?? '' };
    if (row?.model_name) {
      report.model = { name: row.model_name, version: row.model_version ?? '', sha256: row.model_sha256 ?? '' };
    }
    if (row?.duration_ms !== null && row?.duration_ms !== undefined) report.durationMs = row.duration_ms;
    reports[stage] = report;
  }
  return reports;
}

function imageError(image: Pick<ImageRow, 'error_code' | 'error_message'>): { error?: StageError } {
  if (image.error_code === null) return {};
  return { error: { code: image.error_code as ErrorCode, message: image.error_message ?? '' } };
}

function dates(image: Pick<ImageRow, 'created_at' | 'updated_at' | 'completed_at' | 'deadline_at'>) {
  return {
    createdAt: image.created_at.toISOString(),
    updatedAt: image.updated_at.toISOString(),
    ...(image.completed_at ? { completedAt: image.completed_at.toISOString() } : {}),
    ...(image.deadline_at ? { deadlineAt: image.deadline_at.toISOString() } : {}),
  };
}

/**
 * A tenant's images, newest first, filtered by label, OCR text, status and age, one page at a time. Keyset
 * pagination on (created_at, id): pages stay stable while new images arrive, and deep pages cost what the first does.
 */
export async function searchImages(db: Kysely<Database>, query: SearchImagesQuery): Promise<SearchPage> {
  const limit = pageSize(query.limit);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  return withDatabaseErrors(async () => {
    let select = db
      .selectFrom('images as i')
      .select([
        'i.id',
        'i.source_name',
        'i.attributes',
        'i.status',
        'i.width',
        'i.height',
        'i.format',
        'i.error_code',
        'i.error_message',
        'i.created_at',
        'i.completed_at',
        // Microsecond precision: a JS Date would round created_at and the next page could skip or repeat rows.
        sql<string>`to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'),
        sql<string[]>`array(select l.label from image_labels l where l.image_id = i.id
          order by l.count desc, l.confidence desc, l.label)`.as('labels'),
      ])
      .where('i.tenant_id', '=', query.tenantId);
    if (query.status) select = select.where('i.status', '=', query.status);
    if (query.since) select = select.where('i.created_at', '>=', query.since);
    if (query.label !== undefined) {
      const label = query.label;
      select = select.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('image_labels as l')
            .select(sql.lit(1).as('one'))
            .whereRef('l.image_id', '=', 'i.id')
            .where('l.label', '=', label),
        ),
      );
    }
    if (query.text !== undefined && query.text.trim() !== '') {
      // The words of the text or a barcode or QR code with exactly this text: each side served by its GIN index.
      const code = JSON.stringify([{ text: query.text.trim() }]);
      select = select.where(
        sql<boolean>`(i.search @@ websearch_to_tsquery('simple', ${query.text}) or i.text_codes @> ${code}::jsonb)`,
      );
    }
    if (query.code !== undefined && query.code !== '') {
      // JSON containment: some element of text_codes has this text (images_text_codes_idx, migration 0011).
      const wanted = JSON.stringify([{ text: query.code }]);
      select = select.where(sql<boolean>`i.text_codes @> ${wanted}::jsonb`);
    }
    if (after) {
      select = select.where(sql<boolean>`(i.created_at, i.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
    }
    const rows = await select
      .orderBy('i.created_at', 'desc')
      .orderBy('i.id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const items = page.map(
      (row): ImageSummary => ({
        imageId: row.id,
        ...(row.source_name === null ? {} : { sourceName: row.source_name }),
        attributes: row.attributes,
        status: row.status,
        ...(row.width === null ? {} : { width: row.width }),
        ...(row.height === null ? {} : { height: row.height }),
        ...(row.format === null ? {} : { format: row.format }),
        labels: row.labels,
        ...imageError(row),
        createdAt: row.created_at.toISOString(),
        ...(row.completed_at ? { completedAt: row.completed_at.toISOString() } : {}),
      }),
    );
    return rows.length > limit && last ? { items, nextCursor: encodeCursor(last.cursor_at, last.id) } : { items };
  });
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new ImgpipeError('REQUEST_INVALID', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE} (got ${limit})`);
  }
  return limit;
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2) {
      const [createdAt, id] = decoded as unknown[];
      if (typeof createdAt === 'string' && CURSOR_TIME.test(createdAt) && typeof id === 'string' && isImageId(id)) {
        return { createdAt, id };
      }
    }
  } catch {
    // Fall through to the error below: a cursor is opaque, so any malformation reads the same.
  }
  throw new ImgpipeError('REQUEST_INVALID', 'the cursor is not one this API returned');
}

export interface RecentUpload {
  imageId: string;
  status: ImageStatus;
  requestedAnalyses: UploadAnalysisName[];
  requestedRenditions: string[];
  createdAt: string;
}

/**
 * The tenant's newest image with these bytes created at or after `since` whose upload named the same OCR model set
 * (`ocrModel`; undefined: an upload that named none, read with the deployment's set) and the same OCR languages
 * (`ocrLanguages`, compared in canonicalOcrLanguages' spelling; none: no restriction): content dedup for uploads. An image read
 * with another set or restriction is not the same result, so it is passed over, not returned.
 */
export async function findRecentBySha(
  db: Kysely<Database>,
  tenantId: string,
  sha256: string,
  since: Date,
  ocrModel?: string,
  ocrLanguages?: readonly string[],
): Promise<RecentUpload | undefined> {
  const languages = canonicalOcrLanguages(ocrLanguages);
  const row = await withDatabaseErrors(() =>
    db
      .selectFrom('images')
      .select(['id', 'status', 'requested_analyses', 'requested_renditions', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('sha256', '=', sha256.toLowerCase())
      .where('created_at', '>=', since)
      .where('requested_ocr_model', ocrModel === undefined ? 'is' : '=', ocrModel ?? null)
      // One parameter holding the whole array (kysely would spread a plain array into a value list).
      .where(sql<boolean>`requested_ocr_languages is not distinct from ${sql.val(languages ?? null)}::text[]`)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst(),
  );
  if (!row) return undefined;
  return {
    imageId: row.id,
    status: row.status,
    requestedAnalyses: row.requested_analyses as UploadAnalysisName[],
    requestedRenditions: row.requested_renditions,
    createdAt: row.created_at.toISOString(),
  };
}

export interface RowCounts {
  stages: number;
  detections: number;
  faces: number;
  textLines: number;
  labels: number;
}

/** How many rows each table holds for one image (tests of idempotency, operators' checks). */
export async function countRows(db: Kysely<Database>, imageId: string): Promise<RowCounts> {
  const count = (table: 'image_stages' | 'detections' | 'faces' | 'text_lines' | 'image_labels') =>
    db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('image_id', '=', imageId)
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));
  return withDatabaseErrors(async () => {
    const [stages, detections, faces, textLines, labels] = await Promise.all([
      count('image_stages'),
      count('detections'),
      count('faces'),
      count('text_lines'),
      count('image_labels'),
    ]);
    return { stages, detections, faces, textLines, labels };
  });
}
