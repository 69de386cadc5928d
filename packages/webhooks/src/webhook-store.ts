import { randomUUID } from 'node:crypto';
import { withDatabaseErrors } from '@imgpipe/results';
import { sql } from 'kysely';
import { generateWebhookSecret } from './signature.ts';
import type { DeliveryStatus, WebhookDatabase } from './tables.ts';

export interface TenantWebhookSettings {
  tenantId: string;
  /** Default callback URL for the tenant's images that name none. */
  url?: string;
  secret: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: string;
  tenantId: string;
  imageId: string;
  eventType: string;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastStatusCode?: number;
  lastError?: string;
  createdAt: string;
  deliveredAt?: string;
}

type DeliveryRow = {
  id: string;
  tenant_id: string;
  image_id: string;
  event_type: string;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
};

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    imageId: row.image_id,
    eventType: row.event_type,
    url: row.url,
    body: row.body,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at).toISOString(),
    ...(row.last_status_code === null ? {} : { lastStatusCode: row.last_status_code }),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.delivered_at === null ? {} : { deliveredAt: new Date(row.delivered_at).toISOString() }),
  };
}

/** The webhook tables behind readable operations: tenant settings, per-image callbacks, the delivery queue. */
export class WebhookStore {
  readonly #db: WebhookDatabase;

  constructor(db: WebhookDatabase) {
    this.#db = db;
  }

  /** The tenant's settings, creating its signing secret on first use. */
  async settings(tenantId: string): Promise<TenantWebhookSettings> {
    return withDatabaseErrors(async () => {
      await this.#db
        .insertInto('tenant_webhooks')
        .values({ tenant_id: tenantId, secret: generateWebhookSecret() })
        .onConflict((conflict) => conflict.column('tenant_id').doNothing())
        .execute();
      const row = await this.#db
        .selectFrom('tenant_webhooks')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .executeTakeFirstOrThrow();
      return {
        tenantId,
        ...(row.url === null ? {} : { url: row.url }),
        secret: row.secret,
        updatedAt: row.updated_at.toISOString(),
      };
    });
  }

  async setDefaultUrl(tenantId: string, url: string | null): Promise<TenantWebhookSettings> {
    await this.settings(tenantId);
    await withDatabaseErrors(() =>
      this.#db
        .updateTable('tenant_webhooks')
        .set({ url, updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .execute(),
    );
    return this.settings(tenantId);
  }

  async rotateSecret(tenantId: string): Promise<TenantWebhookSettings> {
    await this.settings(tenantId);
    await withDatabaseErrors(() =>
      this.#db
        .updateTable('tenant_webhooks')
        .set({ secret: generateWebhookSecret(), updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .execute(),
    );
    return this.settings(tenantId);
  }

  async recordImageCallback(tenantId: string, imageId: string, url: string): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db
        .insertInto('image_callbacks')
        .values({ image_id: imageId, tenant_id: tenantId, url })
        .onConflict((conflict) => conflict.column('image_id').doNothing())
        .execute(),
    );
  }

  /** Where the image's completion goes: its own callback URL, else the tenant's default, else nowhere. */
  async callbackUrlFor(tenantId: string, imageId: string): Promise<string | undefined> {
    return withDatabaseErrors(async () => {
      const own = await this.#db
        .selectFrom('image_callbacks')
        .select('url')
        .where('image_id', '=', imageId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (own) return own.url;
      const tenant = await this.#db
        .selectFrom('tenant_webhooks')
        .select('url')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return tenant?.url ?? undefined;
    });
  }

  /** Queues one delivery per (image, event type); false when it was already queued (a replay). */
  async enqueue(input: {
    tenantId: string;
    imageId: string;
    eventType: string;
    url: string;
    body: string;
  }): Promise<boolean> {
    const inserted = await withDatabaseErrors(() =>
      this.#db
        .insertInto('webhook_deliveries')
        .values({
          id: randomUUID(),
          tenant_id: input.tenantId,
          image_id: input.imageId,
          event_type: input.eventType,
          url: input.url,
          body: input.body,
        })
        .onConflict((conflict) => conflict.columns(['image_id', 'event_type']).doNothing())
        .returning('id')
        .executeTakeFirst(),
    );
    return inserted !== undefined;
  }

  /**
   * Claims up to `limit` due deliveries for `leaseMs`: the claim counts the attempt and pushes the next attempt past
   * the lease, so another replica skips them and a crashed sender's deliveries come due again.
   */
  async claimDue(limit: number, leaseMs: number): Promise<(WebhookDelivery & { secret: string })[]> {
    return withDatabaseErrors(async () => {
      const claimed = await sql<DeliveryRow>`
        update webhook_deliveries set attempts = attempts + 1, updated_at = now(),
          next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
        where id in (
          select id from webhook_deliveries
          where status = 'pending' and next_attempt_at <= now()
          order by next_attempt_at
          limit ${limit}
          for update skip locked)
        returning *`.execute(this.#db);
      if (claimed.rows.length === 0) return [];
      const tenants = [...new Set(claimed.rows.map((row) => row.tenant_id))];
      for (const tenant of tenants) await this.settings(tenant);
      const secrets = await this.#db
        .selectFrom('tenant_webhooks')
        .select(['tenant_id', 'secret'])
        .where('tenant_id', 'in', tenants)
        .execute();
      const secretOf = new Map(secrets.map((row) => [row.tenant_id, row.secret]));
      return claimed.rows.map((row) => ({ ...toDelivery(row), secret: secretOf.get(row.tenant_id)! }));
    });
  }

  async markDelivered(id: string, statusCode: number): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db
        .updateTable('webhook_deliveries')
        .set({
          status: 'delivered',
          last_status_code: statusCode,
          last_error: null,
          delivered_at: new Date(),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .execute(),
    );
  }

  /** Records a failed attempt: retried at `retryAt`, or given up on when `retryAt` is undefined. */
  async markAttemptFailed(id: string, failure: { statusCode?: number; error: string; retryAt?: Date }): Promise<void> {
    await withDatabaseErrors(() =>
      this.#db
        .updateTable('webhook_deliveries')
        .set({
          status: failure.retryAt ? 'pending' : 'failed',
          last_status_code: failure.statusCode ?? null,
          last_error: failure.error.slice(0, 1000),
          ...(failure.retryAt ? { next_attempt_at: failure.retryAt } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .execute(),
    );
  }

  async deliveriesFor(tenantId: string, imageId: string): Promise<WebhookDelivery[]> {
    const rows = await withDatabaseErrors(() =>
      this.#db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('image_id', '=', imageId)
        .orderBy('created_at')
        .execute(),
    );
    return rows.map(toDelivery);
  }
}
