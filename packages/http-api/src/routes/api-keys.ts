import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyStore } from '../auth/api-keys.ts';
import { principalOf } from '../fastify-types.ts';
import { ROLES, type Role } from '../roles.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { nameSchema } from '../text-rules.ts';

export interface ApiKeyRoutesOptions {
  keys: ApiKeyStore;
}

/** The tenant's API keys for machine clients: list, create (the key is shown once), revoke. Admins only. */
export async function apiKeyRoutes(app: FastifyInstance, deps: ApiKeyRoutesOptions): Promise<void> {
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
            name: nameSchema(200, { description: 'what the key is for' }),
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
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'the key id (16 hex digits)' } },
        },
        response: {
          200: { description: 'the revoked key', $ref: 'ApiKey#' },
          ...problemResponses(400, ...AUTH_PROBLEMS, 404),
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
}
