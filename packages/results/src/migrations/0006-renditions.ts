import { type Kysely, sql } from 'kysely';

/**
 * Rendition presets (issue 11): what an upload asked for (images.requested_renditions, '{}' for every image before and
 * for uploads that ask for none: a constant default rewrites no rows) and what the transform stage stored, one row per
 * rendition in the order asked, and the transform stage's report (images.transform, null when none was asked for).
 * Images without renditions have no rows here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('images')
    .addColumn('requested_renditions', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('transform', 'jsonb')
    .execute();
  await db.schema
    .createTable('renditions')
    .addColumn('image_id', 'uuid', (col) => col.notNull().references('images.id').onDelete('cascade'))
    .addColumn('ordinal', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('recipe', 'text', (col) => col.notNull())
    .addColumn('key', 'text', (col) => col.notNull())
    .addColumn('format', 'text', (col) => col.notNull())
    .addColumn('width', 'integer', (col) => col.notNull())
    .addColumn('height', 'integer', (col) => col.notNull())
    .addColumn('bytes', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('renditions_pk', ['image_id', 'ordinal'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('renditions').execute();
  await db.schema.alterTable('images').dropColumn('transform').dropColumn('requested_renditions').execute();
}
