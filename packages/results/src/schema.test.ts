/**
 * The results store describes its data three times: the kysely table types (schema.ts), the tables the migrations
 * create, and the result contract (packages/contracts) whose fields the columns store. COLUMNS below is the one list
 * they are checked against: the compiler checks it against the table types (every column, its nullability, its
 * kind of type), and the test against the tables migrate() creates in the real PostgreSQL and against the contract.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { type ImageSummary as ContractSummary, ImageView, type Shape } from '@imgpipe/contracts';
import { type Selectable, sql } from 'kysely';
import { createDatabase } from './database.ts';
import { migrate } from './migrate.ts';
import type { ImageSummary, ImageView as StoredView } from './queries.ts';
import type { Database } from './schema.ts';
import { settings } from './test-fixtures.ts';

/** As information_schema names them (arrays as element[]). */
type PgType =
  | 'uuid'
  | 'text'
  | 'text[]'
  | 'integer'
  | 'bigint'
  | 'double precision'
  | 'boolean'
  | 'jsonb'
  | 'timestamp with time zone'
  | 'tsvector';

/** The PostgreSQL types a column read as this TypeScript type may have. */
type PgTypeOf<T> = T extends Date
  ? 'timestamp with time zone'
  : T extends string
    ? 'text' | 'uuid' | 'bigint' | 'tsvector'
    : T extends number
      ? 'integer' | 'double precision'
      : T extends boolean
        ? 'boolean'
        : T extends readonly string[]
          ? 'text[]'
          : 'jsonb';

interface Column<T extends PgType, Nullable extends boolean> {
  type: T;
  nullable: Nullable;
  /** The contract field stored, as a path through ImageView: 'objects.box.x'; 'stages.*' is a stage's name. */
  stores?: string;
  /** Why the column may be null although the contract field it stores is required. */
  nullWhen?: string;
  /** A double the column keeps as an integer: the writer rounds it. */
  rounded?: true;
  /** GENERATED ALWAYS AS ... STORED. */
  generated?: true;
}

type Columns<Table> = {
  [K in keyof Selectable<Table>]-?: Column<
    PgTypeOf<NonNullable<Selectable<Table>[K]>>,
    null extends Selectable<Table>[K] ? true : false
  >;
};

const box = {
  box_x: { type: 'double precision', nullable: false, stores: 'objects.box.x' },
  box_y: { type: 'double precision', nullable: false, stores: 'objects.box.y' },
  box_width: { type: 'double precision', nullable: false, stores: 'objects.box.width' },
  box_height: { type: 'double precision', nullable: false, stores: 'objects.box.height' },
  norm_left: { type: 'double precision', nullable: false, stores: 'objects.boxNormalized.left' },
  norm_top: { type: 'double precision', nullable: false, stores: 'objects.boxNormalized.top' },
  norm_width: { type: 'double precision', nullable: false, stores: 'objects.boxNormalized.width' },
  norm_height: { type: 'double precision', nullable: false, stores: 'objects.boxNormalized.height' },
} as const;

/** The same box columns, for faces or text lines. */
function boxOf(list: 'faces' | 'text.lines') {
  return Object.fromEntries(
    Object.entries(box).map(([name, column]) => [name, { ...column, stores: column.stores.replace('objects', list) }]),
  ) as typeof box;
}

const COLUMNS: { [Table in keyof Database]: Columns<Database[Table]> } = {
  images: {
    id: { type: 'uuid', nullable: false, stores: 'imageId' },
    tenant_id: { type: 'text', nullable: false, stores: 'tenantId' },
    source_name: { type: 'text', nullable: true, stores: 'sourceName' },
    content_type: { type: 'text', nullable: true, stores: 'contentType' },
    byte_size: { type: 'bigint', nullable: true, stores: 'image.bytes' },
    sha256: { type: 'text', nullable: true, stores: 'image.sha256' },
    blob_bucket: { type: 'text', nullable: true },
    blob_key: { type: 'text', nullable: true },
    requested_analyses: { type: 'text[]', nullable: false, stores: 'requestedAnalyses' },
    status: { type: 'text', nullable: false, stores: 'status' },
    error_code: { type: 'text', nullable: true, stores: 'error.code' },
    error_message: { type: 'text', nullable: true, stores: 'error.message' },
    width: { type: 'integer', nullable: true, stores: 'image.width' },
    height: { type: 'integer', nullable: true, stores: 'image.height' },
    format: { type: 'text', nullable: true, stores: 'image.format' },
    info: { type: 'jsonb', nullable: true, stores: 'image' },
    analysis: {
      type: 'jsonb',
      nullable: true,
      stores: 'textInObjects',
      nullWhen: 'the image is not analysed yet (read as no text in objects)',
    },
    full_text: { type: 'text', nullable: true, stores: 'text.fullText', nullWhen: 'no text was read yet (read as "")' },
    text_orientation: { type: 'integer', nullable: true, stores: 'text.orientation' },
    text_codes: { type: 'jsonb', nullable: true, stores: 'text.codes' },
    search: { type: 'tsvector', nullable: false, generated: true },
    created_at: { type: 'timestamp with time zone', nullable: false, stores: 'createdAt' },
    updated_at: { type: 'timestamp with time zone', nullable: false, stores: 'updatedAt' },
    completed_at: { type: 'timestamp with time zone', nullable: true, stores: 'completedAt' },
    deadline_at: { type: 'timestamp with time zone', nullable: true, stores: 'deadlineAt' },
    uploaded_at: { type: 'timestamp with time zone', nullable: true },
    attributes: { type: 'jsonb', nullable: false, stores: 'attributes' },
    // info.perceptualHash's 16-bit segments: the similar-images index (migration 0007), not read back into views.
    phash_0: { type: 'integer', nullable: true },
    phash_1: { type: 'integer', nullable: true },
    phash_2: { type: 'integer', nullable: true },
    phash_3: { type: 'integer', nullable: true },
    requested_renditions: { type: 'text[]', nullable: false, stores: 'requestedRenditions' },
    transform: { type: 'jsonb', nullable: true, stores: 'transform' },
    features: { type: 'jsonb', nullable: true, stores: 'features' },
    features_stage: { type: 'jsonb', nullable: true, stores: 'featuresStage' },
    requested_ocr_model: { type: 'text', nullable: true, stores: 'requestedOcrModel' },
    requested_ocr_languages: { type: 'text[]', nullable: true, stores: 'requestedOcrLanguages' },
  },
  image_stages: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    stage: { type: 'text', nullable: false, stores: 'stages.*' },
    status: { type: 'text', nullable: false, stores: 'stages.*.status' },
    error_code: { type: 'text', nullable: true, stores: 'stages.*.error.code' },
    error_message: { type: 'text', nullable: true, stores: 'stages.*.error.message' },
    model_name: { type: 'text', nullable: true, stores: 'stages.*.model.name' },
    model_version: { type: 'text', nullable: true, stores: 'stages.*.model.version' },
    model_sha256: { type: 'text', nullable: true, stores: 'stages.*.model.sha256' },
    duration_ms: { type: 'integer', nullable: true, stores: 'stages.*.durationMs', rounded: true },
    updated_at: { type: 'timestamp with time zone', nullable: false },
  },
  detections: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    ordinal: { type: 'integer', nullable: false },
    label: { type: 'text', nullable: false, stores: 'objects.label' },
    class_id: { type: 'integer', nullable: false, stores: 'objects.classId' },
    confidence: { type: 'double precision', nullable: false, stores: 'objects.confidence' },
    ...box,
  },
  faces: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    ordinal: { type: 'integer', nullable: false },
    confidence: { type: 'double precision', nullable: false, stores: 'faces.confidence' },
    ...boxOf('faces'),
    landmarks: { type: 'jsonb', nullable: false, stores: 'faces.landmarks' },
  },
  text_lines: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    ordinal: { type: 'integer', nullable: false },
    text: { type: 'text', nullable: false, stores: 'text.lines.text' },
    confidence: { type: 'double precision', nullable: false, stores: 'text.lines.confidence' },
    polygon: { type: 'jsonb', nullable: false, stores: 'text.lines.polygon' },
    ...boxOf('text.lines'),
    words: { type: 'jsonb', nullable: true, stores: 'text.lines.words' },
  },
  renditions: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    ordinal: { type: 'integer', nullable: false },
    name: { type: 'text', nullable: false, stores: 'renditions.name' },
    recipe: { type: 'text', nullable: false, stores: 'renditions.recipe' },
    key: { type: 'text', nullable: false, stores: 'renditions.key' },
    format: { type: 'text', nullable: false, stores: 'renditions.format' },
    width: { type: 'integer', nullable: false, stores: 'renditions.width' },
    height: { type: 'integer', nullable: false, stores: 'renditions.height' },
    bytes: { type: 'bigint', nullable: false, stores: 'renditions.bytes' },
  },
  image_labels: {
    image_id: { type: 'uuid', nullable: false, stores: 'imageId' },
    label: { type: 'text', nullable: false, stores: 'labels.label' },
    count: { type: 'integer', nullable: false, stores: 'labels.count' },
    confidence: { type: 'double precision', nullable: false, stores: 'labels.confidence' },
  },
};

/** Tables the migrations also create whose types live with their one writer, and kysely's bookkeeping. */
const OTHER_TABLES = [
  'api_keys', // packages/http-api/src/auth/api-keys.ts
  'tenant_webhooks', // packages/webhooks/src/tables.ts
  'image_callbacks',
  'webhook_deliveries',
  'users', // packages/accounts/src/tables.ts
  'refresh_families',
  'refresh_tokens',
  'auth_audit',
  'batches', // packages/results/src/batch-repository.ts
  'batch_images',
  'kysely_migration',
  'kysely_migration_lock',
];

// The read model queries.ts returns is the contract's view, exactly (checked by the compiler).
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const viewIsTheContract: Equal<StoredView, ImageView> = true;
const summaryIsTheContract: Equal<ImageSummary, ContractSummary> = true;

interface ActualColumn {
  type: string;
  nullable: boolean;
  generated: boolean;
  /** The values of a CHECK (column in (...)) constraint, when there is one. */
  allowed?: string[];
}

/** The tables migrate() creates in an empty schema, as information_schema and pg_constraint describe them. */
async function migratedTables(): Promise<Map<string, Map<string, ActualColumn>>> {
  const schema = `imgpipe_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = createDatabase({ url: settings.databaseUrl, poolSize: 1 });
  await sql`create schema ${sql.id(schema)}`.execute(admin);
  const db = createDatabase({ url: settings.databaseUrl, poolSize: 1, schema });
  try {
    await migrate(db, { schema });
    const columns = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: 'YES' | 'NO';
      is_generated: 'ALWAYS' | 'NEVER';
    }>`select table_name, column_name, data_type, udt_name, is_nullable, is_generated
        from information_schema.columns where table_schema = ${schema}`.execute(admin);
    const checks = await sql<{ table_name: string; definition: string }>`
      select c.conrelid::regclass::text as table_name, pg_get_constraintdef(c.oid) as definition
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = ${schema} and c.contype = 'c'`.execute(admin);
    const tables = new Map<string, Map<string, ActualColumn>>();
    for (const row of columns.rows) {
      const table = tables.get(row.table_name) ?? new Map<string, ActualColumn>();
      tables.set(row.table_name, table);
      table.set(row.column_name, {
        type: row.data_type === 'ARRAY' ? `${row.udt_name.replace(/^_/, '')}[]` : row.data_type,
        nullable: row.is_nullable === 'YES',
        generated: row.is_generated === 'ALWAYS',
      });
    }
    // e.g. CHECK ((status = ANY (ARRAY['pending'::text, 'completed'::text])))
    for (const { table_name, definition } of checks.rows) {
      const match = /^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$/.exec(definition);
      const column = match && tables.get(table_name.replace(/^.*\./, ''))?.get(match[1]!);
      if (column) column.allowed = [...match[2]!.matchAll(/'([^']*)'::text/g)].map((value) => value[1]!);
    }
    return tables;
  } finally {
    await db.destroy();
    await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
    await admin.destroy();
  }
}

/** The contract field at a path through ImageView, and whether it (or anything on the way) is optional. */
function contractField(path: string): { shape: Shape; optional: boolean } {
  let shape: Shape = ImageView;
  let optional = false;
  const segments = path.split('.');
  segments.forEach((segment, index) => {
    while (shape.kind === 'list') shape = shape.items;
    if (shape.kind === 'keyed' && segment === '*') {
      shape = index === segments.length - 1 ? { kind: 'oneOf', values: shape.keys } : shape.values;
      return;
    }
    const field = shape.kind === 'record' ? shape.fields[segment] : undefined;
    if (!field) throw new Error(`the contract has no ${path} (no ${segment} in ${shapeName(shape)})`);
    optional ||= field.optional;
    shape = field.shape;
  });
  return { shape, optional };
}

function shapeName(shape: Shape): string {
  return shape.kind === 'record' ? shape.name : shape.kind;
}

/** The column type a contract field is stored in. */
function pgTypeFor(shape: Shape): PgType {
  switch (shape.kind) {
    case 'string':
    case 'oneOf':
      return 'text';
    case 'uuid':
      return 'uuid';
    case 'dateTime':
      return 'timestamp with time zone';
    case 'int':
      return 'integer';
    case 'long':
      return 'bigint';
    case 'double':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'list':
      return shape.items.kind === 'string' || shape.items.kind === 'oneOf' ? 'text[]' : 'jsonb';
    case 'keyed':
    case 'map':
    case 'record':
      return 'jsonb';
  }
}

/** Every path to a leaf of the contract view (lists see through to their items, 'stages.*' to each stage). */
function leafPaths(shape: Shape, prefix: string[] = []): string[] {
  if (shape.kind === 'list') return leafPaths(shape.items, prefix);
  if (shape.kind === 'keyed') return [[...prefix, '*'].join('.'), ...leafPaths(shape.values, [...prefix, '*'])];
  // A map's keys are the producer's own: the map is one leaf, stored whole.
  if (shape.kind === 'map') return [prefix.join('.')];
  if (shape.kind !== 'record') return [prefix.join('.')];
  return Object.entries(shape.fields).flatMap(([name, field]) => leafPaths(field.shape, [...prefix, name]));
}

function expectedColumns(): [string, string, Column<PgType, boolean>][] {
  return Object.entries(COLUMNS).flatMap(([table, columns]) =>
    Object.entries(columns as Record<string, Column<PgType, boolean>>).map(
      ([name, column]): [string, string, Column<PgType, boolean>] => [table, name, column],
    ),
  );
}

describe('the results tables', () => {
  let tables: Map<string, Map<string, ActualColumn>>;
  before(async () => {
    tables = await migratedTables();
  });

  test('the migrations create exactly the columns of the kysely tables, with their types and nullability', () => {
    assert.ok(viewIsTheContract && summaryIsTheContract);
    assert.deepEqual(
      [...tables.keys()].sort(),
      [...Object.keys(COLUMNS), ...OTHER_TABLES].sort(),
      'tables in the migrated schema',
    );
    for (const [table, columns] of Object.entries(COLUMNS)) {
      const actual = tables.get(table)!;
      assert.deepEqual([...actual.keys()].sort(), Object.keys(columns).sort(), `columns of ${table}`);
      for (const [name, expected] of Object.entries(columns as Record<string, Column<PgType, boolean>>)) {
        const column = actual.get(name)!;
        const where = `${table}.${name}`;
        assert.equal(column.type, expected.type, `${where}: type`);
        assert.equal(column.generated, expected.generated === true, `${where}: generated`);
        // PostgreSQL reports every generated column nullable; search is coalesce()d, never null.
        if (!expected.generated) assert.equal(column.nullable, expected.nullable, `${where}: nullable`);
      }
    }
  });

  test('each column stores its contract field in the matching type, null only where the field may be absent', () => {
    for (const [table, name, column] of expectedColumns()) {
      if (column.stores === undefined) continue;
      const where = `${table}.${name} (${column.stores})`;
      const field = contractField(column.stores);
      const type = column.rounded && field.shape.kind === 'double' ? 'integer' : pgTypeFor(field.shape);
      assert.equal(column.type, type, `${where}: a ${shapeName(field.shape)} is stored as ${type}`);
      if (field.optional) assert.ok(column.nullable, `${where}: the field is optional, the column must allow null`);
      else assert.equal(column.nullable, column.nullWhen !== undefined, `${where}: the field is required`);
    }
  });

  test('every field of the contract view is stored in some column', () => {
    const stored = expectedColumns().flatMap(([, , column]) => (column.stores ? [column.stores] : []));
    const unstored = leafPaths(ImageView).filter(
      (path) => !stored.some((owner) => path === owner || path.startsWith(`${owner}.`)),
    );
    assert.deepEqual(unstored, [], 'contract fields no column stores');
  });

  test("a column's CHECK constraint allows exactly the contract's values", () => {
    let checked = 0;
    for (const [table, name, column] of expectedColumns()) {
      const allowed = tables.get(table)?.get(name)?.allowed;
      if (column.stores === undefined || allowed === undefined) continue;
      const { shape } = contractField(column.stores);
      assert.equal(shape.kind, 'oneOf', `${table}.${name} has a CHECK but stores a ${shapeName(shape)}`);
      if (shape.kind === 'oneOf') assert.deepEqual([...allowed].sort(), [...shape.values].sort(), `${table}.${name}`);
      checked++;
    }
    assert.equal(checked, 3, 'images.status, image_stages.stage and image_stages.status are checked');
  });
});
