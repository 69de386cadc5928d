import { type AccountRole, type AccountService, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '@imgpipe/accounts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../fastify-types.ts';
import { ROLES } from '../roles.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';

export interface UserRoutesOptions {
  accounts: AccountService;
}

const userId = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid', description: 'the user id' } },
} as const;

const password = {
  type: 'string',
  minLength: MIN_PASSWORD_LENGTH,
  maxLength: MAX_PASSWORD_LENGTH,
  description:
    `${MIN_PASSWORD_LENGTH}-${MAX_PASSWORD_LENGTH} characters, not the username, not a common password ` +
    '(422 AUTH_PASSWORD_WEAK otherwise)',
} as const;

const actorOf = (request: FastifyRequest) => ({ actor: principalOf(request).subject, ip: request.ip });

/**
 * The tenant's users, for its admins (the console's user page): list, create, change role, disable or enable, set a
 * new password, and the sign-in audit trail. A disabled user's sessions end at their next refresh, as do all of a
 * user's sessions after a new password; a new role applies from the next refresh. The last enabled admin of a
 * tenant can be neither demoted nor disabled (409 AUTH_LAST_ADMIN).
 */
export async function userRoutes(app: FastifyInstance, deps: UserRoutesOptions): Promise<void> {
  app.get(
    '/v1/users',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listUsers',
        tags: ['users'],
        summary: "The tenant's users, by username",
        response: {
          200: {
            description: 'the users',
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: { $ref: 'User#' } } },
          },
          ...problemResponses(...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => ({ items: await deps.accounts.listUsers(principalOf(request).tenantId) }),
  );

  app.post(
    '/v1/users',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'createUser',
        tags: ['users'],
        summary: 'Create a user of the tenant',
        body: {
          type: 'object',
          required: ['username', 'password', 'role'],
          additionalProperties: false,
          properties: {
            username: {
              type: 'string',
              pattern: '^[A-Za-z0-9._@+-]{1,254}$',
              description: 'ASCII letters, digits and . _ @ + - (an e-mail address fits); stored in lower case',
            },
            password,
            role: { type: 'string', enum: [...ROLES] },
          },
        },
        response: {
          201: { description: 'the new user', $ref: 'User#' },
          ...problemResponses(400, ...AUTH_PROBLEMS, 409, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; password: string; role: AccountRole };
      const user = await deps.accounts.createUser(
        { tenantId: principalOf(request).tenantId, ...body },
        actorOf(request),
      );
      return reply.code(201).header('location', `/v1/users/${user.id}`).send(user);
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'updateUser',
        tags: ['users'],
        summary: "Change a user's role, or disable or enable the user",
        params: userId,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            role: { type: 'string', enum: [...ROLES], description: 'applies from the next refresh' },
            disabled: { type: 'boolean', description: "true ends the user's sessions at their next refresh" },
          },
        },
        response: {
          200: { description: 'the user', $ref: 'User#' },
          ...problemResponses(400, ...AUTH_PROBLEMS, 404, 409, 415),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const body = request.body as { role?: AccountRole; disabled?: boolean };
      const tenantId = principalOf(request).tenantId;
      let user = await deps.accounts.getUser(tenantId, { id });
      if (body.role !== undefined) user = await deps.accounts.setRole(tenantId, { id }, body.role, actorOf(request));
      if (body.disabled !== undefined) {
        user = await deps.accounts.setDisabled(tenantId, { id }, body.disabled, actorOf(request));
      }
      return user;
    },
  );

  app.put(
    '/v1/users/:id/password',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'resetUserPassword',
        tags: ['users'],
        summary: "Set a user's password; every session of the user ends at its next refresh",
        params: userId,
        body: {
          type: 'object',
          required: ['password'],
          additionalProperties: false,
          properties: { password },
        },
        response: {
          204: { description: 'the password was set', type: 'null' },
          ...problemResponses(400, ...AUTH_PROBLEMS, 404, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = request.body as { password: string };
      await deps.accounts.resetPassword(principalOf(request).tenantId, { id }, body.password, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/auth/audit',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listAuthAudit',
        tags: ['users'],
        summary: "The tenant's sign-in audit trail, newest first",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            userId: { type: 'string', format: 'uuid' },
          },
        },
        response: {
          200: {
            description:
              'events: login_succeeded, login_failed, login_throttled, refresh_rotated, refresh_reused, ' +
              'refresh_refused, logout, sessions_revoked, user_created, role_changed, user_disabled, user_enabled, ' +
              'password_reset',
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['id', 'tenantId', 'username', 'event', 'actor', 'detail', 'at'],
                  properties: {
                    id: { type: 'string' },
                    tenantId: { type: 'string' },
                    userId: { type: 'string', format: 'uuid' },
                    username: { type: 'string' },
                    event: { type: 'string' },
                    actor: { type: 'string' },
                    ip: { type: 'string' },
                    familyId: { type: 'string', format: 'uuid', description: 'the session' },
                    detail: { type: 'object', additionalProperties: true },
                    at: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          ...problemResponses(400, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => {
      const query = request.query as { limit?: number; userId?: string };
      return {
        items: await deps.accounts.audit(principalOf(request).tenantId, {
          limit: query.limit ?? 100,
          ...(query.userId ? { userId: query.userId } : {}),
        }),
      };
    },
  );
}
