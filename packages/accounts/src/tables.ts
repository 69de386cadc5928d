import type { Database } from '@imgpipe/results';
import type { ColumnType, Generated, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type AccountRole = 'viewer' | 'uploader' | 'admin';

/** Migration 0005-accounts: a user of a tenant. */
export interface UsersTable {
  id: string;
  tenant_id: string;
  username: string;
  role: AccountRole;
  password_hash: string;
  disabled_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  password_changed_at: Timestamp;
  last_sign_in_at: NullableTimestamp;
}

/** One sign-in's chain of refresh tokens. */
export interface RefreshFamiliesTable {
  id: string;
  tenant_id: string;
  user_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_sha256: string;
  family_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: NullableTimestamp;
}

export interface AuthAuditTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string | null;
  username: string;
  event: string;
  actor: string;
  ip: string | null;
  family_id: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Timestamp;
}

export interface AccountTables {
  users: UsersTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  auth_audit: AuthAuditTable;
}

/** The results database seen with the account tables too (same connection, same pool). */
export type AccountDatabase = Kysely<Database & AccountTables>;

export function withAccountTables(db: Kysely<Database>): AccountDatabase {
  return db as unknown as AccountDatabase;
}
