import { type Kysely, sql } from 'kysely';
import { withDatabaseErrors } from './database-errors.ts';
import type { Database } from './schema.ts';

export interface SweptImage {
  imageId: string;
  tenantId: string;
}

export interface SweepOptions {
  /** Images settled per transaction; the sweep goes on batch after batch until none is left. */
  batchSize?: number;
}

/**
 * Nothing stays pending forever: images still pending past their deadline get their unfinished stages failed with
 * STAGE_TIMEOUT and settle as partial (some stage completed) or failed (none did). Returns the images it settled,
 * so the caller can refresh their cached views.
 *
 * Idempotent (a settled image is no longer pending) and safe from several replicas at once: each batch locks its
 * images with SKIP LOCKED, so replicas share the work and never wait on an image a writer is updating.
 */
export async function sweepExpired(db: Kysely<Database>, now: Date, options: SweepOptions = {}): Promise<SweptImage[]> {
  const batchSize = options.batchSize ?? 500;
  const swept: SweptImage[] = [];
  for (;;) {
    const batch = await withDatabaseErrors(() => db.transaction().execute((trx) => sweepBatch(trx, now, batchSize)));
    swept.push(...batch.settled);
    if (batch.locked < batchSize) return swept;
  }
}

async function sweepBatch(
  db: Kysely<Database>,
  now: Date,
  batchSize: number,
): Promise<{ settled: SweptImage[]; locked: number }> {
  const expired = await db
    .selectFrom('images')
    .select('id')
    .where('status', '=', 'pending')
    .where('deadline_at', '<=', now)
    .orderBy('deadline_at')
    .limit(batchSize)
    .forUpdate()
    .skipLocked()
    .execute();
  if (expired.length === 0) return { settled: [], locked: 0 };
  const ids = expired.map((row) => row.id);
  await db
    .updateTable('image_stages')
    .set({
      status: 'failed',
      error_code: 'STAGE_TIMEOUT',
      error_message: sql<string>`'the ' || stage || ' stage did not finish before the image''s deadline'`,
      updated_at: now,
    })
    .where('image_id', 'in', ids)
    .where('status', 'in', ['pending', 'running'])
    .execute();
  // Runs after the stage update within the same transaction, under the lock: the completed stages it sees are final.
  const settled = await db
    .updateTable('images as i')
    .set({
      status: sql`case when exists (select 1 from image_stages s where s.image_id = i.id and s.status = 'completed')
        then 'partial' else 'failed' end`,
      error_code: 'STAGE_TIMEOUT',
      error_message: 'the image was not analysed before its deadline',
      completed_at: now,
      updated_at: sql`greatest(${now}::timestamptz, i.updated_at + interval '1 millisecond')`,
    })
    .where('i.id', 'in', ids)
    .returning(['i.id', 'i.tenant_id'])
    .execute();
  return { settled: settled.map((row) => ({ imageId: row.id, tenantId: row.tenant_id })), locked: expired.length };
}
