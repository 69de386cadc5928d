import { type Kysely, sql } from 'kysely';

/**
 * Accounts (packages/accounts, their one writer): users of a tenant with a role and an argon2id password hash,
 * refresh-token families (one per sign-in; revoking one ends that session) with every refresh token ever issued in
 * them, stored as SHA-256, and the audit trail of sign-ins, failures, rotations, revocations and account changes.
 * Frozen once released: later changes go in new migrations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    // Normalised (NFKC, lower case): the sign-in name, unique within the tenant.
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull().check(sql`role in ('viewer', 'uploader', 'admin')`))
    // PHC string: $argon2id$v=19$m=...,t=...,p=...$salt$hash
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('password_changed_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('last_sign_in_at', 'timestamptz')
    .addUniqueConstraint('users_tenant_username_key', ['tenant_id', 'username'])
    .execute();

  await db.schema
    .createTable('refresh_families')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    // The session's absolute end: no rotation extends it.
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();
  await sql`create index refresh_families_user_idx on refresh_families (user_id) where revoked_at is null`.execute(db);

  await db.schema
    .createTable('refresh_tokens')
    // SHA-256 (hex) of the token: 256 random bits, so a fast hash is as strong as a slow one.
    .addColumn('token_sha256', 'text', (col) => col.primaryKey())
    .addColumn('family_id', 'uuid', (col) => col.notNull().references('refresh_families.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    // Set when the token is exchanged for its successor; a second use of it is a reuse.
    .addColumn('rotated_at', 'timestamptz')
    .execute();
  await sql`create index refresh_tokens_family_idx on refresh_tokens (family_id)`.execute(db);

  await db.schema
    .createTable('auth_audit')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('tenant_id', 'text', (col) => col.notNull())
    // Null for a sign-in attempt with an unknown username (the name tried is in `username`).
    .addColumn('user_id', 'uuid')
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('event', 'text', (col) => col.notNull())
    // Who did it: the user itself, an admin (user:<id>, apikey:<id>, a token subject) or `cli`.
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('ip', 'text')
    .addColumn('family_id', 'uuid')
    .addColumn('detail', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index auth_audit_tenant_idx on auth_audit (tenant_id, created_at desc)`.execute(db);
  await sql`create index auth_audit_user_idx on auth_audit (user_id, created_at desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['auth_audit', 'refresh_tokens', 'refresh_families', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
