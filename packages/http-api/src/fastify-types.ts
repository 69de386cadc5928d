import type { Principal, Role } from './roles.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role the route needs; absent for public and operations routes. */
    auth?: Role;
    /** Public routes are rate-limited per client IP; operations routes (health, metrics) are not limited. */
    ipRateLimited?: boolean;
    /** The body is an image: a body over the limit is IMAGE_TOO_LARGE rather than REQUEST_TOO_LARGE. */
    imageBody?: boolean;
    /** The request body as the OpenAPI document shows it, when it differs from the validated (JSON) schema. */
    openapiBody?: unknown;
  }
  interface FastifyInstance {
    /** Every route registered, in order (method, URL, hidden from the OpenAPI document). */
    registeredRoutes: readonly { method: string; url: string; hidden: boolean }[];
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The authenticated caller of a route that declares `config.auth`. */
export function principalOf(request: { principal?: Principal }): Principal {
  if (!request.principal) throw new Error('route without config.auth asked for the principal');
  return request.principal;
}
