import { randomUUID } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import { type Database, withDatabaseErrors } from '@imgpipe/results';
import type { Kysely, Selectable } from 'kysely';
import { hashPassword, prepareDummyHash, verifyPassword } from './password-hasher.ts';
import { checkPassword, checkUsername, normaliseUsername } from './password-policy.ts';
import { newRefreshToken, REFRESH_TOKEN_PATTERN, refreshTokenHash } from './refresh-token.ts';
import { type AccountDatabase, type AccountRole, type UsersTable, withAccountTables } from './tables.ts';

export interface AccountUser {
  id: string;
  tenantId: string;
  username: string;
  role: AccountRole;
  disabled: boolean;
  createdAt: string;
  lastSignInAt?: string;
}

/** A session (refresh-token family) just opened or refreshed: its user as of now and its new refresh token. */
export interface IssuedSession {
  user: AccountUser;
  familyId: string;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export type AuditEvent =
  | 'login_succeeded'
  | 'login_failed'
  | 'login_throttled'
  | 'refresh_rotated'
  | 'refresh_reused'
  | 'refresh_refused'
  | 'logout'
  | 'sessions_revoked'
  | 'user_created'
  | 'role_changed'
  | 'user_disabled'
  | 'user_enabled'
  | 'password_reset';

export interface AuditEntry {
  id: string;
  tenantId: string;
  userId?: string;
  username: string;
  event: AuditEvent;
  actor: string;
  ip?: string;
  familyId?: string;
  detail: Record<string, unknown>;
  at: string;
}

/** Who asked for an account change: `cli`, or the admin's principal subject (user:<id>, apikey:<id>, ...). */
export interface Actor {
  actor: string;
  ip?: string;
}

export type UserRef = { id: string } | { username: string };

export interface AccountServiceOptions {
  /** A refresh token not used within this time expires. */
  refreshTtlSeconds: number;
  /** A session ends this long after sign-in, however often it is refreshed. */
  sessionTtlSeconds: number;
  /** Wraps every database call (the API's circuit breaker); default: transient errors become DATABASE_UNAVAILABLE. */
  run?: <T>(work: () => Promise<T>) => Promise<T>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toUser(row: Selectable<UsersTable>): AccountUser {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    username: row.username,
    role: row.role,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at.toISOString(),
    ...(row.last_sign_in_at ? { lastSignInAt: row.last_sign_in_at.toISOString() } : {}),
  };
}

const loginFailed = () => new ImgpipeError('AUTH_LOGIN_FAILED', 'the tenant, username or password is wrong');
const refreshInvalid = (why: string) => new ImgpipeError('AUTH_REFRESH_INVALID', why);

/**
 * Users of a tenant and their sessions, the one writer of the users, refresh_families, refresh_tokens and
 * auth_audit tables (migration 0005-accounts). A sign-in opens a session: a family of refresh tokens of which only
 * the newest is valid; each refresh rotates it, and presenting an already rotated token again revokes the whole
 * family (RFC 9700 section 4.14.2), as does signing out. A refresh reads the user afresh, so a role change takes
 * effect and a disabled user is refused at the next refresh. Every sign-in, failure, rotation, revocation and
 * account change is written to the audit table.
 */
export class AccountService {
  readonly #db: AccountDatabase;
  readonly #options: AccountServiceOptions;
  readonly #run: <T>(work: () => Promise<T>) => Promise<T>;

  constructor(db: Kysely<Database>, options: AccountServiceOptions) {
    this.#db = withAccountTables(db);
    this.#options = options;
    this.#run = options.run ?? withDatabaseErrors;
    prepareDummyHash();
  }

  async createUser(
    input: { tenantId: string; username: string; role: AccountRole; password: string },
    by: Actor,
  ): Promise<AccountUser> {
    const username = checkUsername(input.username);
    checkPassword(input.password, { username });
    const passwordHash = await hashPassword(input.password);
    const row = await this.#run(async () => {
      const inserted = await this.#db
        .insertInto('users')
        .values({
          id: randomUUID(),
          tenant_id: input.tenantId,
          username,
          role: input.role,
          password_hash: passwordHash,
        })
        .onConflict((oc) => oc.constraint('users_tenant_username_key').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) await this.#audit(inserted, 'user_created', by, { role: input.role });
      return inserted;
    });
    if (!row) {
      throw new ImgpipeError('AUTH_USERNAME_TAKEN', `tenant ${input.tenantId} already has a user ${username}`);
    }
    return toUser(row);
  }

  async listUsers(tenantId: string): Promise<AccountUser[]> {
    const rows = await this.#run(() =>
      this.#db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('username').execute(),
    );
    return rows.map(toUser);
  }

  async getUser(tenantId: string, ref: UserRef): Promise<AccountUser> {
    return toUser(await this.#user(tenantId, ref));
  }

  /** Changes a user's role; sessions keep going and carry the new role from their next refresh. */
  async setRole(tenantId: string, ref: UserRef, role: AccountRole, by: Actor): Promise<AccountUser> {
    const user = await this.#user(tenantId, ref);
    if (user.role === role) return toUser(user);
    if (user.role === 'admin') await this.#keepAnAdmin(user);
    const row = await this.#run(async () => {
      const updated = await this.#db
        .updateTable('users')
        .set({ role, updated_at: new Date() })
        .where('id', '=', user.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(updated, 'role_changed', by, { from: user.role, to: role });
      return updated;
    });
    return toUser(row);
  }

  /** Disables (ending every session of the user at its next refresh) or enables a user. */
  async setDisabled(tenantId: string, ref: UserRef, disabled: boolean, by: Actor): Promise<AccountUser> {
    const user = await this.#user(tenantId, ref);
    if ((user.disabled_at !== null) === disabled) return toUser(user);
    if (disabled && user.role === 'admin') await this.#keepAnAdmin(user);
    const row = await this.#run(async () => {
      const updated = await this.#db
        .updateTable('users')
        .set({ disabled_at: disabled ? new Date() : null, updated_at: new Date() })
        .where('id', '=', user.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(updated, disabled ? 'user_disabled' : 'user_enabled', by);
      return updated;
    });
    if (disabled) await this.#revokeSessions(row, 'user disabled', by);
    return toUser(row);
  }

  /** Sets a new password (held to the policy) and ends every session of the user. */
  async resetPassword(tenantId: string, ref: UserRef, password: string, by: Actor): Promise<AccountUser> {
    const user = await this.#user(tenantId, ref);
    checkPassword(password, { username: user.username });
    const passwordHash = await hashPassword(password);
    const row = await this.#run(async () => {
      const updated = await this.#db
        .updateTable('users')
        .set({ password_hash: passwordHash, password_changed_at: new Date(), updated_at: new Date() })
        .where('id', '=', user.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.#audit(updated, 'password_reset', by);
      return updated;
    });
    await this.#revokeSessions(row, 'password reset', by);
    return toUser(row);
  }

  /**
   * Checks a password and opens a session. An unknown username, a wrong password and a disabled user all throw the
   * same AUTH_LOGIN_FAILED, after the same argon2 work (a dummy hash for unknown users); the audit row says which.
   */
  async login(input: { tenantId: string; username: string; password: string; ip?: string }): Promise<IssuedSession> {
    const username = normaliseUsername(input.username);
    const row = await this.#run(() =>
      this.#db
        .selectFrom('users')
        .selectAll()
        .where('tenant_id', '=', input.tenantId)
        .where('username', '=', username)
        .executeTakeFirst(),
    );
    const matches = await verifyPassword(row?.password_hash, input.password);
    const by = { actor: row ? `user:${row.id}` : 'anonymous', ...(input.ip ? { ip: input.ip } : {}) };
    if (!row || !matches || row.disabled_at !== null) {
      const reason = !row ? 'unknown user' : !matches ? 'wrong password' : 'user disabled';
      await this.#run(() =>
        this.#audit(row ?? { tenant_id: input.tenantId, id: null, username }, 'login_failed', by, { reason }),
      );
      throw loginFailed();
    }
    const now = new Date();
    const familyId = randomUUID();
    const sessionEnd = new Date(now.getTime() + this.#options.sessionTtlSeconds * 1000);
    const issued = await this.#run(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx
          .insertInto('refresh_families')
          .values({ id: familyId, tenant_id: row.tenant_id, user_id: row.id, expires_at: sessionEnd })
          .execute();
        const token = await this.#issueToken(trx, familyId, sessionEnd, now);
        const user = await trx
          .updateTable('users')
          .set({ last_sign_in_at: now })
          .where('id', '=', row.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await this.#audit(user, 'login_succeeded', by, {}, familyId, trx);
        return { user: toUser(user), familyId, ...token };
      }),
    );
    return issued;
  }

  /** Records a sign-in refused by the throttle before any password was checked. */
  async recordThrottled(input: { tenantId: string; username: string; ip?: string; retryAfterMs: number }) {
    const username = normaliseUsername(input.username);
    await this.#run(() =>
      this.#audit(
        { tenant_id: input.tenantId, id: null, username },
        'login_throttled',
        { actor: 'anonymous', ...(input.ip ? { ip: input.ip } : {}) },
        { retryAfterMs: input.retryAfterMs },
      ),
    );
  }

  /**
   * Exchanges a refresh token for its successor in the same family, with the user as they are now. `check` runs once
   * the token's family is known and before anything changes (the API's CSRF check in cookie mode). A token that was
   * already rotated revokes its family: whoever holds the newest token loses it too.
   */
  async refresh(token: string, context: { ip?: string; check?: (familyId: string) => void }): Promise<IssuedSession> {
    if (!REFRESH_TOKEN_PATTERN.test(token)) throw refreshInvalid('the refresh token is malformed');
    const hash = refreshTokenHash(token);
    type Outcome = { issued: IssuedSession } | { refused: ImgpipeError };
    const outcome: Outcome = await this.#run(() =>
      this.#db.transaction().execute(async (trx): Promise<Outcome> => {
        const found = await trx
          .selectFrom('refresh_tokens as t')
          .innerJoin('refresh_families as f', 'f.id', 't.family_id')
          .select([
            't.family_id',
            't.rotated_at',
            't.expires_at as token_expires_at',
            'f.user_id',
            'f.tenant_id',
            'f.expires_at as family_expires_at',
            'f.revoked_at',
          ])
          .where('t.token_sha256', '=', hash)
          .forUpdate()
          .executeTakeFirst();
        if (!found) return { refused: refreshInvalid('the refresh token is not known') };
        context.check?.(found.family_id);
        const user = await trx.selectFrom('users').selectAll().where('id', '=', found.user_id).executeTakeFirst();
        const subject = user ?? { tenant_id: found.tenant_id, id: found.user_id, username: '' };
        const by = { actor: `user:${found.user_id}`, ...(context.ip ? { ip: context.ip } : {}) };
        const now = new Date();
        if (found.revoked_at !== null) {
          await this.#audit(subject, 'refresh_refused', by, { reason: 'session revoked' }, found.family_id, trx);
          return { refused: refreshInvalid('the session was revoked; sign in again') };
        }
        if (found.rotated_at !== null) {
          await this.#revokeFamily(trx, found.family_id, 'refresh token reused');
          await this.#audit(
            subject,
            'refresh_reused',
            by,
            { rotatedAt: found.rotated_at.toISOString() },
            found.family_id,
            trx,
          );
          return { refused: refreshInvalid('the refresh token was already used; the session is revoked') };
        }
        if (found.token_expires_at <= now || found.family_expires_at <= now) {
          await this.#audit(subject, 'refresh_refused', by, { reason: 'expired' }, found.family_id, trx);
          return { refused: refreshInvalid('the refresh token has expired; sign in again') };
        }
        if (!user || user.disabled_at !== null) {
          await this.#revokeFamily(trx, found.family_id, 'user disabled');
          await this.#audit(subject, 'refresh_refused', by, { reason: 'user disabled' }, found.family_id, trx);
          return { refused: refreshInvalid('the user is disabled') };
        }
        await trx.updateTable('refresh_tokens').set({ rotated_at: now }).where('token_sha256', '=', hash).execute();
        const next = await this.#issueToken(trx, found.family_id, found.family_expires_at, now);
        await this.#audit(user, 'refresh_rotated', by, { role: user.role }, found.family_id, trx);
        return { issued: { user: toUser(user), familyId: found.family_id, ...next } };
      }),
    );
    if ('refused' in outcome) throw outcome.refused;
    return outcome.issued;
  }

  /** Ends the session a refresh token (current or rotated) belongs to. Unknown tokens are ignored. */
  async logout(token: string, context: { ip?: string; check?: (familyId: string) => void }): Promise<void> {
    if (!REFRESH_TOKEN_PATTERN.test(token)) return;
    const family = await this.familyOf(token);
    if (!family) return;
    context.check?.(family.familyId);
    await this.#run(() =>
      this.#db.transaction().execute(async (trx) => {
        const revoked = await this.#revokeFamily(trx, family.familyId, 'logout');
        if (revoked === 0) return;
        const user = await trx.selectFrom('users').selectAll().where('id', '=', family.userId).executeTakeFirst();
        await this.#audit(
          user ?? { tenant_id: family.tenantId, id: family.userId, username: '' },
          'logout',
          { actor: `user:${family.userId}`, ...(context.ip ? { ip: context.ip } : {}) },
          {},
          family.familyId,
          trx,
        );
      }),
    );
  }

  /** The session a refresh token belongs to, if the token is known. */
  async familyOf(token: string): Promise<{ familyId: string; userId: string; tenantId: string } | undefined> {
    if (!REFRESH_TOKEN_PATTERN.test(token)) return undefined;
    const row = await this.#run(() =>
      this.#db
        .selectFrom('refresh_tokens as t')
        .innerJoin('refresh_families as f', 'f.id', 't.family_id')
        .select(['f.id', 'f.user_id', 'f.tenant_id'])
        .where('t.token_sha256', '=', refreshTokenHash(token))
        .executeTakeFirst(),
    );
    return row ? { familyId: row.id, userId: row.user_id, tenantId: row.tenant_id } : undefined;
  }

  /** The tenant's audit trail, newest first. */
  async audit(tenantId: string, options: { limit?: number; userId?: string } = {}): Promise<AuditEntry[]> {
    let query = this.#db
      .selectFrom('auth_audit')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100);
    if (options.userId) query = query.where('user_id', '=', options.userId);
    const rows = await this.#run(() => query.execute());
    return rows.map((row) => ({
      id: String(row.id),
      tenantId: row.tenant_id,
      ...(row.user_id ? { userId: row.user_id } : {}),
      username: row.username,
      event: row.event as AuditEvent,
      actor: row.actor,
      ...(row.ip ? { ip: row.ip } : {}),
      ...(row.family_id ? { familyId: row.family_id } : {}),
      detail: row.detail,
      at: row.created_at.toISOString(),
    }));
  }

  async #user(tenantId: string, ref: UserRef): Promise<Selectable<UsersTable>> {
    if ('id' in ref && !UUID.test(ref.id)) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no user ${ref.id}`);
    let query = this.#db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
    query =
      'id' in ref ? query.where('id', '=', ref.id) : query.where('username', '=', normaliseUsername(ref.username));
    const row = await this.#run(() => query.executeTakeFirst());
    if (!row) {
      const name = 'id' in ref ? ref.id : ref.username;
      throw new ImgpipeError('RESOURCE_NOT_FOUND', `tenant ${tenantId} has no user ${name}`);
    }
    return row;
  }

  /** Refuses to demote or disable the tenant's last enabled admin: nobody could manage its users any more. */
  async #keepAnAdmin(user: Selectable<UsersTable>): Promise<void> {
    const others = await this.#run(() =>
      this.#db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('tenant_id', '=', user.tenant_id)
        .where('role', '=', 'admin')
        .where('disabled_at', 'is', null)
        .where('id', '!=', user.id)
        .executeTakeFirstOrThrow(),
    );
    if (Number(others.n) === 0) {
      throw new ImgpipeError(
        'AUTH_LAST_ADMIN',
        `${user.username} is the last enabled admin of tenant ${user.tenant_id}; make another admin first`,
      );
    }
  }

  async #issueToken(trx: AccountDatabase, familyId: string, sessionEnd: Date, now: Date) {
    const refreshToken = newRefreshToken();
    const idleEnd = new Date(now.getTime() + this.#options.refreshTtlSeconds * 1000);
    const refreshExpiresAt = idleEnd < sessionEnd ? idleEnd : sessionEnd;
    await trx
      .insertInto('refresh_tokens')
      .values({ token_sha256: refreshTokenHash(refreshToken), family_id: familyId, expires_at: refreshExpiresAt })
      .execute();
    return { refreshToken, refreshExpiresAt };
  }

  async #revokeFamily(trx: AccountDatabase, familyId: string, reason: string): Promise<number> {
    const result = await trx
      .updateTable('refresh_families')
      .set({ revoked_at: new Date(), revoked_reason: reason })
      .where('id', '=', familyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async #revokeSessions(user: Selectable<UsersTable>, reason: string, by: Actor): Promise<void> {
    await this.#run(async () => {
      const revoked = await this.#db
        .updateTable('refresh_families')
        .set({ revoked_at: new Date(), revoked_reason: reason })
        .where('user_id', '=', user.id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const count = Number(revoked.numUpdatedRows);
      if (count > 0) await this.#audit(user, 'sessions_revoked', by, { reason, count });
    });
  }

  async #audit(
    user: { tenant_id: string; id: string | null; username: string },
    event: AuditEvent,
    by: Actor,
    detail: Record<string, unknown> = {},
    familyId?: string,
    db: AccountDatabase = this.#db,
  ): Promise<void> {
    await db
      .insertInto('auth_audit')
      .values({
        tenant_id: user.tenant_id,
        user_id: user.id,
        username: user.username,
        event,
        actor: by.actor,
        ip: by.ip ?? null,
        family_id: familyId ?? null,
        detail: JSON.stringify(detail),
      })
      .execute();
  }
}
