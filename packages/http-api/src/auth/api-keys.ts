import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import { type Database, withDatabaseErrors } from '@imgpipe/results';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import type { ColumnType, Kysely } from 'kysely';
import type { Role } from '../roles.ts';

/** Migration 0002-api. */
export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  role: Role;
  name: ColumnType<string, string | undefined, string>;
  secret_sha256: string;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

type KeysDatabase = Kysely<Database & { api_keys: ApiKeysTable }>;

export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt?: string;
}

/** `ipk_` + a 16-hex-digit id (looked up) + `_` + 43 base64url characters of secret (hashed). */
export const API_KEY_PREFIX = 'ipk_';
const KEY_PATTERN = /^ipk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function toInfo(row: {
  id: string;
  tenant_id: string;
  role: Role;
  name: string;
  created_at: Date;
  revoked_at: Date | null;
}): ApiKeyInfo {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    role: row.role,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    ...(row.revoked_at ? { revokedAt: row.revoked_at.toISOString() } : {}),
  };
}

/** API keys for machine clients: stored as SHA-256 of their secret, bound to a tenant and a role, revocable. */
export class ApiKeyStore {
  readonly #db: KeysDatabase;
  readonly #database: <T>(work: () => Promise<T>) => Promise<T>;

  /** With `breakers`, every query goes through the PostgreSQL circuit breaker (the API); without, straight (the CLI). */
  constructor(db: Kysely<Database>, breakers?: DependencyBreakers) {
    this.#db = db as unknown as KeysDatabase;
    this.#database = breakers ? (work) => breakers.database(work) : withDatabaseErrors;
  }

  /** Creates a key; the returned `key` is shown once and never stored. */
  async create(input: { tenantId: string; role: Role; name?: string }): Promise<ApiKeyInfo & { key: string }> {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row = await this.#database(() =>
      this.#db
        .insertInto('api_keys')
        .values({
          id,
          tenant_id: input.tenantId,
          role: input.role,
          name: input.name ?? '',
          secret_sha256: sha256(secret).toString('hex'),
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
    return { ...toInfo(row), key: `${API_KEY_PREFIX}${id}_${secret}` };
  }

  /** The key's tenant and role; AUTH_INVALID for a malformed, unknown, wrong or revoked key. */
  async verify(key: string): Promise<ApiKeyInfo> {
    const match = KEY_PATTERN.exec(key);
    if (!match) throw new ImgpipeError('AUTH_INVALID', 'the API key is malformed');
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await this.#database(() =>
      this.#db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst(),
    );
    const expected = row ? Buffer.from(row.secret_sha256, 'hex') : sha256('');
    const matches = timingSafeEqual(expected, sha256(secret));
    if (!row || !matches) throw new ImgpipeError('AUTH_INVALID', 'the API key is not valid');
    if (row.revoked_at) throw new ImgpipeError('AUTH_INVALID', 'the API key was revoked');
    return toInfo(row);
  }

  async list(tenantId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.#database(() =>
      this.#db
        .selectFrom('api_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .execute(),
    );
    return rows.map(toInfo);
  }

  /** Revokes a key of this tenant (or of any tenant when tenantId is undefined: operators). */
  async revoke(id: string, tenantId?: string): Promise<ApiKeyInfo | undefined> {
    let update = this.#db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null);
    if (tenantId !== undefined) update = update.where('tenant_id', '=', tenantId);
    await this.#database(() => update.execute());
    let select = this.#db.selectFrom('api_keys').selectAll().where('id', '=', id);
    if (tenantId !== undefined) select = select.where('tenant_id', '=', tenantId);
    const row = await this.#database(() => select.executeTakeFirst());
    return row ? toInfo(row) : undefined;
  }
}
