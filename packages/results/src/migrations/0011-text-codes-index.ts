import { type Kysely, sql } from 'kysely';

/**
 * An index for search by code (GET /v1/images?code=, and text= matching a code's exact text): the query is JSON
 * containment on images.text_codes (`text_codes @> '[{"text": ...}]'`), which a GIN index with jsonb_path_ops
 * serves (smaller than the default jsonb_ops, and it indexes exactly the @> operator). Without it the search read
 * every row of the tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists images_text_codes_idx on images using gin (text_codes jsonb_path_ops)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists images_text_codes_idx`.execute(db);
}
