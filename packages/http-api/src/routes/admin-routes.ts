import { ImgpipeError } from '@imgpipe/core';
import type { SsrfGuard } from '@imgpipe/egress';
import type { WebhookStore } from '@imgpipe/webhooks';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyStore } from '../auth/api-keys.ts';
import { principalOf } from '../fastify-types.ts';
import { ROLES, type Role } from '../roles.ts';
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

/** API keys and webhook settings: the tenant's admins manage them. */
export function adminRoutes(deps: { keys: ApiKeyStore; webhooks: WebhookStore; guard: SsrfGuard }) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/api-keys',
      {
        config: { auth: 'admin' },
        schema: {
          operationId: 'listApiKeys',
          tags: ['api keys'],
          summary: "The tenant's API keys (never their secrets)",
          response: {
            200: {
              description: 'the keys, newest first',
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: { $ref: 'ApiKey#' } } },
            },
            ...problemResponses(...AUTH_PROBLEMS),
          },
        },
      },
      async (request) => ({ items: await deps.keys.list(principalOf(request).tenantId) }),
    );

    app.post(
      '/v1/api-keys',
      {
        config: { auth: 'admin' },
        schema: {
          operationId: 'createApiKey',
          tags: ['api keys'],
          summary: 'Create an API key for a machine client; the key is shown once',
          body: {
            type: 'object',
            required: ['role'],
            additionalProperties: false,
            properties: {
              role: { type: 'string', enum: [...ROLES] },
              name: { type: 'string', maxLength: 200 },
            },
          },
          response: {
            201: {
              description: 'the new key',
              type: 'object',
              required: ['id', 'tenantId', 'role', 'name', 'createdAt', 'key'],
              properties: {
                id: { type: 'string' },
                tenantId: { type: 'string' },
                role: { type: 'string', enum: [...ROLES] },
                name: { type: 'string' },
                createdAt: { type: 'string', format: 'date-time' },
                key: { type: 'string', description: 'send as X-API-Key or Authorization: Bearer; shown only now' },
              },
            },
            ...problemResponses(400, ...AUTH_PROBLEMS),
          },
        },
      },
      async (request, reply) => {
        const body = request.body as { role: Role; name?: string };
        const created = await deps.keys.create({
          tenantId: principalOf(request).tenantId,
          role: body.role,
          ...(body.name ? { name: body.name } : {}),
        });
        return reply.code(201).header('location', `/v1/api-keys/${created.id}`).send(created);
      },
    );

    app.delete(
      '/v1/api-keys/:id',
      {
        config: { auth: 'admin' },
        schema: {
          operationId: 'revokeApiKey',
          tags: ['api keys'],
          summary: 'Revoke an API key at once',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
          response: {
            200: { description: 'the revoked key', $ref: 'ApiKey#' },
            ...problemResponses(...AUTH_PROBLEMS, 404),
          },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        const revoked = await deps.keys.revoke(id, principalOf(request).tenantId);
        if (!revoked) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no API key ${id}`);
        return revoked;
      },
    );

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
      async (request) => deps.webhooks.settings(principalOf(request).tenantId),
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
        return deps.webhooks.setDefaultUrl(principalOf(request).tenantId, url);
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
      async (request) => deps.webhooks.rotateSecret(principalOf(request).tenantId),
    );

    app.get(
      '/v1/images/:id/webhooks',
      {
        config: { auth: 'viewer' },
        schema: {
          operationId: 'listImageWebhookDeliveries',
          tags: ['webhooks'],
          summary: "The image's webhook deliveries and their attempts",
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
          response: {
            200: {
              description: 'deliveries, oldest first',
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: deliverySchema } },
            },
            ...problemResponses(...AUTH_PROBLEMS),
          },
        },
      },
      async (request) => {
        const { id } = request.params as { id: string };
        if (!/^[0-9a-f-]{36}$/i.test(id)) return { items: [] };
        return { items: await deps.webhooks.deliveriesFor(principalOf(request).tenantId, id.toLowerCase()) };
      },
    );
  };
}
