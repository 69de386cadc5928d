export {
  DEFAULT_TOLERANCE_SECONDS,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  type WebhookHeaders,
  webhookHeaders,
} from './signature.ts';
export { type DeliveryStatus, type WebhookDatabase, type WebhookTables, withWebhookTables } from './tables.ts';
export {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookPayload,
} from './webhook-dispatcher.ts';
export { type TenantWebhookSettings, type WebhookDelivery, WebhookStore } from './webhook-store.ts';
export { type WebhookConfig, webhookDispatcherFrom, webhookSettings } from './webhook-settings.ts';
