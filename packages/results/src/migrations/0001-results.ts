import { type Kysely, sql } from 'kysely';

/**
 * The results tables: one row per image, one per (image, stage), and the rows of each stage's output keyed by
 * (image, ordinal) so that rewriting a stage's output replaces rather than appends. Frozen once released: later
 * changes go in new migrations.
 */
const IMAGE_STATUSES = sql`('pending', 'completed', 'partial', 'failed')`;
const STAGE_STATUSES = sql`('pending', 'running', 'completed', 'failed', 'skipped')`;
const STAGES = sql`('preprocess', 'detect', 'faces', 'ocr', 'aggregate')`;
const BOX_COLUMNS = [
  'box_x',
  'box_y',
  'box_width',
  'box_height',
  'norm_left',
  'norm_top',
  'norm_width',
  'norm_height',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('images')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('source_name', 'text')
    .addColumn('content_type', 'text')
    .addColumn('byte_size', 'bigint')
    .addColumn('sha256', 'text')
    .addColumn('blob_bucket', 'text')
    .addColumn('blob_key', 'text')
    .addColumn('requested_analyses', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('pending').check(sql`status in ${IMAGE_STATUSES}`))
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('format', 'text')
    .addColumn('info', 'jsonb')
    .addColumn('analysis', 'jsonb')
    .addColumn('full_text', 'text')
    .addColumn('search', sql`tsvector`, (col) =>
      col.generatedAlwaysAs(sql`to_tsvector('simple'::regconfig, coalesce(full_text, ''))`).stored(),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addColumn('deadline_at', 'timestamptz')
    // Null while the image is known only from stage events that overtook its upload event.
    .addColumn('uploaded_at', 'timestamptz')
    .execute();
  await sql`create index images_tenant_created_idx on images (tenant_id, created_at desc, id desc)`.execute(db);
  await sql`create index images_tenant_sha256_idx on images (tenant_id, sha256, created_at desc)`.execute(db);
  // The sweep only ever looks at pending images, a small slice of the table.
  await sql`create index images_pending_deadline_idx on images (deadline_at) where status = 'pending'`.execute(db);
  await sql`create index images_search_idx on images using gin (search)`.execute(db);

  await db.schema
    .createTable('image_stages')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('stage', 'text', (col) => col.notNull().check(sql`stage in ${STAGES}`))
    .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ${STAGE_STATUSES}`))
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('model_name', 'text')
    .addColumn('model_version', 'text')
    .addColumn('model_sha256', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('image_stages_pk', ['image_id', 'stage'])
    .execute();

  let detections = db.schema
    .createTable('detections')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('ordinal', 'integer', (col) => col.notNull())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('class_id', 'integer', (col) => col.notNull())
    .addColumn('confidence', 'double precision', (col) => col.notNull());
  for (const column of BOX_COLUMNS)
    detections = detections.addColumn(column, 'double precision', (col) => col.notNull());
  await detections.addPrimaryKeyConstraint('detections_pk', ['image_id', 'ordinal']).execute();
  await sql`create index detections_label_idx on detections (label)`.execute(db);

  let faces = db.schema
    .createTable('faces')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('ordinal', 'integer', (col) => col.notNull())
    .addColumn('confidence', 'double precision', (col) => col.notNull());
  for (const column of BOX_COLUMNS) faces = faces.addColumn(column, 'double precision', (col) => col.notNull());
  await faces
    .addColumn('landmarks', 'jsonb', (col) => col.notNull())
    .addPrimaryKeyConstraint('faces_pk', ['image_id', 'ordinal'])
    .execute();

  let textLines = db.schema
    .createTable('text_lines')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('ordinal', 'integer', (col) => col.notNull())
    .addColumn('text', 'text', (col) => col.notNull())
    .addColumn('confidence', 'double precision', (col) => col.notNull())
    .addColumn('polygon', 'jsonb', (col) => col.notNull());
  for (const column of BOX_COLUMNS) textLines = textLines.addColumn(column, 'double precision', (col) => col.notNull());
  await textLines
    .addColumn('words', 'jsonb')
    .addPrimaryKeyConstraint('text_lines_pk', ['image_id', 'ordinal'])
    .execute();

  await db.schema
    .createTable('image_labels')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('count', 'integer', (col) => col.notNull())
    .addColumn('confidence', 'double precision', (col) => col.notNull())
    .addPrimaryKeyConstraint('image_labels_pk', ['image_id', 'label'])
    .execute();
  await sql`create index image_labels_label_idx on image_labels (label, image_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['image_labels', 'text_lines', 'faces', 'detections', 'image_stages', 'images']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
