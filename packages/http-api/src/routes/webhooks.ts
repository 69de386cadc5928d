import type { SsrfGuard } from '@imgpipe/egress';
import type { WebhookStore } from '@imgpipe/webhooks';
import type { FastifyInstance } from 'fastify';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { principalOf } from '../fastify-types.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';

const webhookSettingsSchema = {
  type: 'object',
  required: ['secret', 'updatedAt'],
  properties: {
    url: { type: 'string', description: 'default callback URL for images that name none' },
    secret: { type: 'string', description: 'HMAC-SHA256 signing secret (whsec_...); see docs/api.md' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const deliverySchema = {
  type: 'object',
  required: ['id', 'eventType', 'url', 'status', 'attempts', 'nextAttemptAt', 'createdAt'],
  properties: {
    id: { type: 'string' },
    eventType: { type: 'string' },
    url: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    lastStatusCode: { type: 'integer' },
    lastError: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    deliveredAt: { type: 'string', format: 'date-time' },
  },
} as const;

export interface WebhookRoutesOptions {
  webhooks: WebhookStore;
  /** Checks a default callback URL before it is saved (the same guard as URL ingest). */
  guard: SsrfGuard;
  breakers: DependencyBreakers;
}

/**
 * Webhooks: the tenant's default callback URL and signing secret (admins), and an image's deliveries (viewers).
 */
export async function webhookRoutes(app: FastifyInstance, deps: WebhookRoutesOptions): Promise<void> {
  app.get(
    '/v1/webhook',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getWebhookSettings',
        tags: ['webhooks'],
        summary: "The tenant's default callback URL and signing secret",
        response: {
          200: { description: 'settings', ...webhookSettingsSchema },
          ...problemResponses(...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => deps.breakers.database(() => deps.webhooks.settings(principalOf(request).tenantId)),
  );

  app.put(
    '/v1/webhook',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putWebhookSettings',
        tags: ['webhooks'],
        summary: 'Set or clear the default callback URL',
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: { url: { type: ['string', 'null'], format: 'uri', maxLength: 2048 } },
        },
        response: {
          200: { description: 'settings', ...webhookSettingsSchema },
          ...problemResponses(400, ...AUTH_PROBLEMS, 422),
        },
      },
    },
    async (request) => {
      const { url } = request.body as { url: string | null };
      if (url !== null) await deps.guard.check(url);
      return deps.breakers.database(() => deps.webhooks.setDefaultUrl(principalOf(request).tenantId, url));
    },
  );

  app.post(
    '/v1/webhook/rotate-secret',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags: ['webhooks'],
        summary: 'Replace the signing secret (deliveries from now on use the new one)',
        response: {
          200: { description: 'settings', ...webhookSettingsSchema },
          ...problemResponses(...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => deps.breakers.database(() => deps.webhooks.rotateSecret(principalOf(request).tenantId)),
  );

  app.get(
    '/v1/images/:id/webhooks',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'listImageWebhookDeliveries',
        tags: ['webhooks'],
        summary: "The image's webhook deliveries and their attempts",
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
        response: {
          200: {
            description: 'deliveries, oldest first',
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: deliverySchema } },
          },
          ...problemResponses(400, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!/^[0-9a-f-]{36}$/i.test(id)) return { items: [] };
      const { tenantId } = principalOf(request);
      return { items: await deps.breakers.database(() => deps.webhooks.deliveriesFor(tenantId, id.toLowerCase())) };
    },
  );
}
