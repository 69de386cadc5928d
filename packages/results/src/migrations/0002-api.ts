import { type Kysely, sql } from 'kysely';

/**
 * The HTTP API's tables: API keys (hashed, bound to a tenant and a role, revocable), each tenant's webhook settings,
 * the callback URL an upload asked for, and the webhook delivery queue (one row per image and event, retried with
 * backoff). Frozen once released: later changes go in new migrations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull().check(sql`role in ('viewer', 'uploader', 'admin')`))
    .addColumn('name', 'text', (col) => col.notNull().defaultTo(''))
    // SHA-256 of the key's secret part: the secret is 256 random bits, so a fast hash is as strong as a slow one.
    .addColumn('secret_sha256', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await sql`create index api_keys_tenant_idx on api_keys (tenant_id, created_at desc)`.execute(db);

  await db.schema
    .createTable('tenant_webhooks')
    .addColumn('tenant_id', 'text', (col) => col.primaryKey())
    // The tenant's default callback URL; null when only per-request callbacks are used.
    .addColumn('url', 'text')
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();

  // No foreign key to images: the callback is known at upload time, before the results service writes the image.
  await db.schema
    .createTable('image_callbacks')
    .addColumn('image_id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index image_callbacks_tenant_idx on image_callbacks (tenant_id)`.execute(db);

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('image_id', 'uuid', (col) => col.notNull())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('url', 'text', (col) => col.notNull())
    // The exact bytes sent on every attempt, so retries carry the same body (a fresh timestamp and signature).
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) =>
      col.notNull().defaultTo('pending').check(sql`status in ('pending', 'delivered', 'failed')`),
    )
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addUniqueConstraint('webhook_deliveries_image_event_key', ['image_id', 'event_type'])
    .execute();
  await sql`create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(
    db,
  );
  await sql`create index webhook_deliveries_tenant_idx on webhook_deliveries (tenant_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['webhook_deliveries', 'image_callbacks', 'tenant_webhooks', 'api_keys']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
