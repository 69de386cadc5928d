import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyStore } from '../auth/api-keys.ts';
import { type JwtOptions, registerAuthenticator } from '../auth/authenticator.ts';
import { type Principal, roleAtLeast } from '../roles.ts';

export interface AuthOptions {
  jwt: JwtOptions;
  keys: ApiKeyStore;
}

/**
 * Who is calling and may they: every route that declares `config.auth` (the least role it needs) gets a caller from
 * a JWT or an API key (src/auth/), spends the tenant's rate limit, is held to the role, and finds the caller in
 * `request.principal` (read it with `principalOf`). A failed authentication spends the client IP's allowance.
 * Not encapsulated: the hook and the request decoration serve every route group registered after it; it needs the
 * limits plugin registered first.
 */
async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  const authenticate = await registerAuthenticator(app, { jwt: options.jwt, keys: options.keys });
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const required = request.routeOptions.config.auth;
    if (!required) return;
    let principal: Principal;
    try {
      principal = await authenticate(request);
    } catch (error) {
      await app.limits.afterFailedAuth(request, reply);
      throw error;
    }
    await app.limits.byTenant(principal.tenantId, reply);
    if (!roleAtLeast(principal.role, required)) {
      throw new ImgpipeError('AUTH_FORBIDDEN', `this needs the ${required} role; the caller is ${principal.role}`);
    }
    request.principal = principal;
  });
}

export const authPlugin = fp(auth, {
  name: 'imgpipe-auth',
  fastify: '5.x',
  dependencies: ['imgpipe-limits'],
  decorators: { fastify: ['limits'] },
});
