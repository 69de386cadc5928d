import { type Kysely, sql } from 'kysely';

/**
 * Batches (issue 11): what a POST /v1/batches asked for (the rendition presets and the ad-hoc recipe applied to every
 * image, canonical) and which images it holds, in the order of the request. An image's status and renditions are
 * read from images and renditions; a batch only groups them. batch_images.image_id has no foreign key: the API may
 * answer before the image's row exists (the results service records it from ImageUploaded).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('batches')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('renditions', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('recipe', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('batches_tenant_created').on('batches').columns(['tenant_id', 'created_at']).execute();
  await db.schema
    .createTable('batch_images')
    .addColumn('batch_id', 'uuid', (col) => col.notNull().references('batches.id').onDelete('cascade'))
    .addColumn('position', 'integer', (col) => col.notNull())
    .addColumn('image_id', 'uuid', (col) => col.notNull())
    .addPrimaryKeyConstraint('batch_images_pk', ['batch_id', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('batch_images').execute();
  await db.schema.dropTable('batches').execute();
}
