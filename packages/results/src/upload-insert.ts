import { type Kysely, sql } from 'kysely';
import { applyUpload, type ImageState, newImageState, pendingStageRows, type UploadRecord } from './image-state.ts';
import type { Database, ImageRow } from './schema.ts';

/**
 * The rows of an image whose upload is its first news, written in ONE statement: what `ResultsRepository.apply`
 * writes for such an upload (insert the pending row and pending stages, then patch them with the upload) costs it
 * seven or eight statements in a transaction; the API's pending rows are almost always of this kind (the image id
 * is new), so the group commit of upload-recorder.ts writes them here.
 *
 * The rows are the fold's own: `firstUploadState` runs image-state.ts's `applyUpload` on the row the fold's insert
 * would create, and the statement writes that row (the columns the upload patched, and those of the insert) and its
 * stage rows. An image that already has a row (the results service, or a stage event, came first) is left alone
 * (`on conflict do nothing`) and reported as not inserted: the caller folds those through the repository, whose
 * rules compare against what is stored.
 */

/** Columns the fold's insert of a new image sets; `applyUpload`'s patch adds the upload's. */
const INSERT_COLUMNS = ['id', 'tenant_id', 'status', 'created_at', 'updated_at', 'deadline_at'] as const;

/**
 * The image row as the fold's insert returns it: the table's defaults ('{}' for the array and attribute columns,
 * pending), null elsewhere. A column added later without a default reads as undefined here, as null does for
 * `applyUpload`'s coalescing rules.
 */
const FRESH_IMAGE = {
  status: 'pending',
  source_name: null,
  content_type: null,
  byte_size: null,
  sha256: null,
  blob_bucket: null,
  blob_key: null,
  requested_analyses: [],
  error_code: null,
  error_message: null,
  width: null,
  height: null,
  format: null,
  info: null,
  analysis: null,
  full_text: null,
  text_orientation: null,
  text_codes: null,
  search: '',
  completed_at: null,
  uploaded_at: null,
  attributes: {},
  phash_0: null,
  phash_1: null,
  phash_2: null,
  phash_3: null,
  requested_renditions: [],
  transform: null,
  features: null,
  features_stage: null,
  requested_ocr_model: null,
  requested_ocr_languages: null,
} as const;

/**
 * An image's rows after its upload, for an image that has none yet: `applyUpload` on the row and pending stages the
 * fold would insert for it. `imageId` must be canonical (canonicalImageId).
 */
export function firstUploadState(imageId: string, upload: UploadRecord, deadlineAt: Date, now: Date): ImageState {
  const image = {
    ...FRESH_IMAGE,
    id: imageId,
    tenant_id: upload.tenantId,
    created_at: upload.occurredAt,
    updated_at: now,
    deadline_at: deadlineAt,
  } as unknown as ImageRow;
  const stages = pendingStageRows(imageId, now);
  const state = newImageState({ image, inserted: true, stages, rows: {}, labels: undefined, now });
  applyUpload(state, upload, deadlineAt);
  return state;
}

/**
 * Inserts the images of the given states (from firstUploadState, distinct ids) with their stage rows, in one
 * statement, in id order (as the fold locks and inserts, so the two cannot deadlock); an image that already has a
 * row is left as it is. `durable: false` commits without waiting for the WAL flush: `set_config(..., true)` holds
 * for the statement's own (implicit) transaction, its commit included, so it works through transaction pooling too.
 * Returns the ids inserted.
 */
export async function insertFirstUploads(
  db: Kysely<Database>,
  states: readonly ImageState[],
  options: { durable?: boolean } = {},
): Promise<Set<string>> {
  if (states.length === 0) return new Set();
  const columns = [...new Set<string>([...INSERT_COLUMNS, ...states.flatMap((state) => Object.keys(state.patch))])];
  const images = states.map((state) => {
    const row = state.image as unknown as Record<string, unknown>;
    return Object.fromEntries(columns.map((column) => [column, row[column] ?? null]));
  });
  const stageRows = states.flatMap((state) => [...state.stages.values()]);
  const stageColumns = Object.keys(stageRows[0]!);
  const list = (names: readonly string[], table?: string) =>
    sql.join(names.map((name) => (table ? sql.ref(`${table}.${name}`) : sql.ref(name))));
  // The jsonb parameters become rows of the tables' own types (jsonb_populate_recordset), so every column converts
  // as the table declares it: ISO timestamps, text[] from JSON arrays, jsonb as is.
  const asyncCommit =
    options.durable === false ? sql`set_config('synchronous_commit', 'off', true) is not null` : sql`true`;
  const { rows } = await sql<{ id: string }>`with input as materialized (
      select r.* from jsonb_populate_recordset(null::images, ${JSON.stringify(images)}::jsonb) r where ${asyncCommit}
    ), inserted as (
      insert into images (${list(columns)})
      select ${list(columns, 'input')} from input order by input.id
      on conflict (id) do nothing
      returning id
    ), stages as (
      insert into image_stages (${list(stageColumns)})
      select ${list(stageColumns, 's')} from jsonb_populate_recordset(null::image_stages, ${JSON.stringify(stageRows)}::jsonb) s
      where s.image_id in (select id from inserted)
      order by s.image_id, s.stage
    )
    select id from inserted`.execute(db);
  return new Set(rows.map((row) => row.id));
}
