import { type Kysely, sql } from 'kysely';

/**
 * The producer's own metadata (ImageUploaded.attributes, or the upload's attributes), kept with the image and
 * returned in every view of it. A string map as jsonb; '{}' for images stored before (they had none kept) and for
 * images uploaded without any. Adding a column with a constant default rewrites no rows (PostgreSQL 11+).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('images')
    .addColumn('attributes', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('images').dropColumn('attributes').execute();
}
