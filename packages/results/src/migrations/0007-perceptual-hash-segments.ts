import { type Kysely, sql } from 'kysely';

/**
 * Similar-image search by perceptual hash (multi-index hashing, Norouzi et al. 2012): the preprocess result's
 * 64-bit difference hash (info.perceptualHash, 16 hex digits) split into four 16-bit segments, most significant
 * first, each in an indexed column per tenant. Two hashes within Hamming distance d agree within floor(d / 4) bits
 * on at least one segment (pigeonhole), so a query for d <= 3 is four exact index lookups (packages/results
 * similar-images.ts). The results writer fills them with the image's info; existing rows are filled here from
 * theirs. Null while an image has no hash (not preprocessed yet, or failed). Adding nullable columns rewrites no
 * rows; the partial indexes leave unhashed images out.
 */
const SEGMENTS = [0, 1, 2, 3] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('images')
    .addColumn('phash_0', 'integer')
    .addColumn('phash_1', 'integer')
    .addColumn('phash_2', 'integer')
    .addColumn('phash_3', 'integer')
    .execute();
  await sql`
    update images set
      phash_0 = ('x' || substr(info->>'perceptualHash', 1, 4))::bit(16)::integer,
      phash_1 = ('x' || substr(info->>'perceptualHash', 5, 4))::bit(16)::integer,
      phash_2 = ('x' || substr(info->>'perceptualHash', 9, 4))::bit(16)::integer,
      phash_3 = ('x' || substr(info->>'perceptualHash', 13, 4))::bit(16)::integer
    where info->>'perceptualHash' ~ '^[0-9a-fA-F]{16}$'
  `.execute(db);
  for (const i of SEGMENTS) {
    await sql`create index ${sql.raw(`images_phash_${i}_idx`)} on images (tenant_id, ${sql.raw(`phash_${i}`)}) where ${sql.raw(`phash_${i}`)} is not null`.execute(
      db,
    );
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const i of SEGMENTS) await sql`drop index if exists ${sql.raw(`images_phash_${i}_idx`)}`.execute(db);
  await db.schema
    .alterTable('images')
    .dropColumn('phash_0')
    .dropColumn('phash_1')
    .dropColumn('phash_2')
    .dropColumn('phash_3')
    .execute();
}
