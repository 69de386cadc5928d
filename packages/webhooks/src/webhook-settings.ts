import type { Database } from '@imgpipe/results';
import { type ConfigOf, int } from '@imgpipe/core';
import { egressSettings, SsrfGuard } from '@imgpipe/egress';
import type { Kysely } from 'kysely';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';

/** The dispatcher's schedule and limits, and what receivers it may reach (IMGPIPE_EGRESS_ALLOW). */
export const webhookSettings = {
  pollIntervalMs: int('IMGPIPE_WEBHOOK_POLL_MS', { default: 1_000, min: 10, max: 60_000 }),
  initialDelayMs: int('IMGPIPE_WEBHOOK_RETRY_INITIAL_MS', {
    default: 5_000,
    min: 10,
    description: 'delay before the second attempt; doubles per attempt',
  }),
  maxDelayMs: int('IMGPIPE_WEBHOOK_RETRY_MAX_MS', { default: 3_600_000, min: 10 }),
  maxAttempts: int('IMGPIPE_WEBHOOK_MAX_ATTEMPTS', { default: 8, min: 1, max: 50 }),
  timeoutMs: int('IMGPIPE_WEBHOOK_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000 }),
  egressAllow: egressSettings.allow,
};

export type WebhookConfig = ConfigOf<typeof webhookSettings>;

/** The dispatcher a process's loaded configuration describes. */
export function webhookDispatcherFrom(
  db: Kysely<Database>,
  config: WebhookConfig,
  extra: Pick<WebhookDispatcherOptions, 'onError' | 'onDelivery'> = {},
): WebhookDispatcher {
  const { egressAllow, ...schedule } = config;
  return new WebhookDispatcher({ db, guard: new SsrfGuard({ allow: egressAllow }), ...schedule, ...extra });
}
