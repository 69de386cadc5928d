import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The OpenAPI 3.1 document, generated from the route schemas of every route group registered after this plugin,
 * served at /openapi.json and browsable at /docs (both limited per client IP). Routes that declare `config.auth` are
 * documented with their security and role; `config.openapiBody` replaces a documented request body and
 * `config.openapiResponses` documented responses (what validation and serialisation cannot use). It also keeps
 * `app.registeredRoutes`, every route as registered, so a test can hold the document to what the app serves.
 * Not encapsulated: @fastify/swagger must see the sibling route groups' routes; needs the limits plugin first.
 */
async function openapi(app: FastifyInstance): Promise<void> {
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide) });
    }
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'imgpipe API',
        version: '1.0.0',
        description:
          'Upload images for analysis (objects, faces, text) and read the results. Errors are RFC 9457 problem ' +
          'details with a stable `code`. See docs/api.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'images', description: 'upload, status, results, progress, annotated images' },
        { name: 'transform', description: 'image operations: transform an upload, renditions of stored images' },
        { name: 'api keys', description: 'keys for machine clients (admin)' },
        { name: 'webhooks', description: 'callbacks on completion' },
        { name: 'operations', description: 'health, readiness, metrics, error catalogue' },
      ],
    },
    // Components named by their $id (Problem, Image, ...) rather than def-N.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
    // Routes that need a caller say so in the document.
    transform: ({ schema, url, route }) => {
      const config = route.config as
        | { auth?: string; openapiBody?: unknown; openapiResponses?: Record<number, unknown> }
        | undefined;
      if (!schema || !config) return { schema, url };
      return {
        schema: {
          ...schema,
          ...(config.openapiBody ? { body: config.openapiBody } : {}),
          ...(config.openapiResponses
            ? { response: { ...(schema.response as object), ...config.openapiResponses } }
            : {}),
          ...(config.auth
            ? { security: [{ bearer: [] }, { apiKey: [] }], description: describeRole(schema, config.auth) }
            : {}),
        },
        url,
      };
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiHooks: { onRequest: app.limits.byIp },
  });
  app.get('/openapi.json', { config: { ipRateLimited: true }, schema: { hide: true } }, async () => app.swagger());
}

function describeRole(schema: { description?: string }, role: string): string {
  const needs = `Needs the \`${role}\` role (JWT or API key).`;
  return schema.description ? `${schema.description}\n\n${needs}` : needs;
}

export const openapiPlugin = fp(openapi, {
  name: 'imgpipe-openapi',
  fastify: '5.x',
  dependencies: ['imgpipe-limits'],
  decorators: { fastify: ['limits'] },
});
