import type { Database } from '@imgpipe/results';
import { type ConfigEnv, int, loadConfig } from '@imgpipe/core';
import { ssrfGuardFromEnv } from '@imgpipe/egress';
import type { Kysely } from 'kysely';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.ts';

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
};

/** A dispatcher configured from the environment (IMGPIPE_WEBHOOK_*, IMGPIPE_EGRESS_ALLOW). */
export function webhookDispatcherFromEnv(
  db: Kysely<Database>,
  extra: Pick<WebhookDispatcherOptions, 'onError' | 'onDelivery'> = {},
  env?: ConfigEnv,
): WebhookDispatcher {
  const config = loadConfig(webhookSettings, env);
  return new WebhookDispatcher({ db, guard: ssrfGuardFromEnv(env), ...config, ...extra });
}
