import type { Database } from '@imgpipe/results';
import type { ColumnType, Generated, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** Migration 0002-api: a tenant's default callback URL and signing secret. */
export interface TenantWebhooksTable {
  tenant_id: string;
  url: string | null;
  secret: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** The callback URL one upload asked for (ImageUploaded.callbackUrl). */
export interface ImageCallbacksTable {
  image_id: string;
  tenant_id: string;
  url: string;
  created_at: Timestamp;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  image_id: string;
  event_type: string;
  url: string;
  body: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  delivered_at: NullableTimestamp;
}

export interface WebhookTables {
  tenant_webhooks: TenantWebhooksTable;
  image_callbacks: ImageCallbacksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

/** The results database seen with the webhook tables too (same connection, same pool). */
export type WebhookDatabase = Kysely<Database & WebhookTables>;

export function withWebhookTables(db: Kysely<Database>): WebhookDatabase {
  return db as unknown as WebhookDatabase;
}
