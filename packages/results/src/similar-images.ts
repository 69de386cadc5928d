/**
 * Similar images of a tenant by perceptual hash (the preprocess result's 64-bit difference hash), answered from
 * the four 16-bit segment columns migration 0007 indexes (multi-index hashing, Norouzi et al. 2012):
 *
 *   two hashes within Hamming distance d agree within r = floor(d / 4) bits on at least one of the 4 segments
 *   (pigeonhole), so the candidates are the rows whose segment i is one of the values within r bit flips of the
 *   query's segment i, for some i: 4 exact index lookups for d <= 3, 4 x 17 for d <= 7, 4 x 137 for d <= 11.
 *   Candidates are then checked on their full distance.
 *
 *   const found = await findSimilarImages(db, { tenantId, hash: '8f3c…', maxDistance: 6, excludeId: id });
 *
 * The segments are written by the results writer with the image's info (image-state.ts); @imgpipe/vision's
 * near-duplicates.ts holds the same arithmetic on bigints for in-memory search.
 */
import { ImgpipeError } from '@imgpipe/core';
import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

export const HASH_SEGMENTS = 4;
const SEGMENT_BITS = 16;
/** The largest distance a query may ask for: r = 3 bits per segment (4 x 697 probed values). */
export const MAX_SIMILAR_DISTANCE = 15;

export type HashSegments = [number, number, number, number];

/** A 16-hex-digit hash's four 16-bit segments, most significant first; undefined for anything else. */
export function perceptualHashSegments(hash: string | undefined | null): HashSegments | undefined {
  if (typeof hash !== 'string' || !/^[0-9a-f]{16}$/i.test(hash)) return undefined;
  return [0, 1, 2, 3].map((i) => Number.parseInt(hash.slice(i * 4, i * 4 + 4), 16)) as HashSegments;
}

/** The 16 hex digits of four segments (lower case). */
export function hashOfSegments(segments: readonly number[]): string {
  return segments.map((value) => value.toString(16).padStart(4, '0')).join('');
}

function popcount16(value: number): number {
  let v = value - ((value >>> 1) & 0x5555);
  v = (v & 0x3333) + ((v >>> 2) & 0x3333);
  v = (v + (v >>> 4)) & 0x0f0f;
  return (v + (v >>> 8)) & 0x1f;
}

export function segmentsDistance(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < HASH_SEGMENTS; i++) d += popcount16((a[i]! ^ b[i]!) & 0xffff);
  return d;
}

/** Every 16-bit value within `radius` bit flips of `value` (value itself first). */
export function valuesWithin(value: number, radius: number): number[] {
  const out = [value];
  const flip = (from: number, start: number, left: number) => {
    if (left === 0) return;
    for (let bit = start; bit < SEGMENT_BITS; bit++) {
      const next = from ^ (1 << bit);
      out.push(next);
      flip(next, bit + 1, left - 1);
    }
  };
  flip(value, 0, radius);
  return out;
}

export interface SimilarImagesQuery {
  tenantId: string;
  /** The query hash, 16 hex digits. */
  hash: string;
  maxDistance: number;
  /** Leave this image out (the query image itself). */
  excludeId?: string;
  /** At most this many, nearest first (ties by id). */
  limit?: number;
}

export interface SimilarImage {
  imageId: string;
  /** Hamming distance of the two 64-bit hashes, 0-64. */
  distance: number;
  perceptualHash: string;
  sourceName?: string;
}

export async function findSimilarImages(db: Kysely<Database>, query: SimilarImagesQuery): Promise<SimilarImage[]> {
  const segments = perceptualHashSegments(query.hash);
  if (!segments) throw new ImgpipeError('REQUEST_INVALID', `'${query.hash}' is not a 64-bit hash in 16 hex digits`);
  const { maxDistance } = query;
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > MAX_SIMILAR_DISTANCE) {
    throw new ImgpipeError('REQUEST_INVALID', `maxDistance must be a whole number 0-${MAX_SIMILAR_DISTANCE}`);
  }
  const radius = Math.floor(maxDistance / HASH_SEGMENTS);
  const probes = segments.map((value) => valuesWithin(value, radius));
  // One OR of four indexed equalities (or = ANY for r > 0): PostgreSQL answers it with a BitmapOr of the four
  // partial (tenant_id, phash_i) indexes.
  const any = (i: number) =>
    probes[i]!.length === 1
      ? sql`${sql.ref(`phash_${i}`)} = ${probes[i]![0]!}`
      : sql`${sql.ref(`phash_${i}`)} = any(${sql.val(probes[i]!)}::integer[])`;
  // The candidates' full distance, in PostgreSQL: only the answers travel (at distance 10 the index returns ~8,000
  // candidates per million images, of which a handful are answers).
  const distance = sql<number>`bit_count(((phash_0::bigint << 48) | (phash_1::bigint << 32) | (phash_2::bigint << 16) | phash_3::bigint)::bit(64) # ${`x${query.hash}`}::bit(64))::integer`;
  const rows = await db
    .selectFrom('images')
    .select(['id', 'source_name', 'phash_0', 'phash_1', 'phash_2', 'phash_3', distance.as('distance')])
    .where('tenant_id', '=', query.tenantId)
    .where(sql<boolean>`(${any(0)} or ${any(1)} or ${any(2)} or ${any(3)})`)
    .where(distance, '<=', maxDistance)
    .$if(query.excludeId !== undefined, (q) => q.where('id', '<>', query.excludeId!))
    .orderBy('distance')
    .orderBy('id')
    .$if(query.limit !== undefined, (q) => q.limit(query.limit!))
    .execute();
  return rows.map((row) => {
    const other = [row.phash_0, row.phash_1, row.phash_2, row.phash_3] as number[];
    return {
      imageId: row.id,
      // Checked again here: the answer's distance is the one of the hashes it reports.
      distance: segmentsDistance(segments, other),
      perceptualHash: hashOfSegments(other),
      ...(row.source_name ? { sourceName: row.source_name } : {}),
    };
  });
}

/** A tenant's hashed images (for grouping into near-duplicate clusters), in id order. */
export async function tenantHashes(
  db: Kysely<Database>,
  tenantId: string,
): Promise<{ imageId: string; perceptualHash: string; sourceName?: string }[]> {
  const rows = await db
    .selectFrom('images')
    .select(['id', 'source_name', 'phash_0', 'phash_1', 'phash_2', 'phash_3'])
    .where('tenant_id', '=', tenantId)
    .where('phash_0', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    imageId: row.id,
    perceptualHash: hashOfSegments([row.phash_0!, row.phash_1!, row.phash_2!, row.phash_3!]),
    ...(row.source_name ? { sourceName: row.source_name } : {}),
  }));
}
