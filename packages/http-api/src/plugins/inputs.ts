import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

interface PropertySchema {
  type?: string | string[];
}

/** Canonical decimal text of a number: what a client sends for an integer or number query parameter. */
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Values of a query string or path whose schema declares a number or boolean, parsed from their text in place. */
function parseDeclared(values: unknown, schema: unknown): void {
  if (!values || typeof values !== 'object' || !schema || typeof schema !== 'object') return;
  const properties = (schema as { properties?: Record<string, PropertySchema> }).properties ?? {};
  const target = values as Record<string, unknown>;
  for (const [name, property] of Object.entries(properties)) {
    const value = target[name];
    if (typeof value !== 'string') continue;
    const types = [property.type ?? []].flat();
    if ((types.includes('integer') || types.includes('number')) && NUMBER.test(value)) target[name] = Number(value);
    else if (types.includes('boolean') && (value === 'true' || value === 'false')) target[name] = value === 'true';
  }
}

/**
 * Inputs without type coercion: the app's validator coerces nothing, so a JSON body is validated as sent. Query
 * strings and path parameters are text by nature; the integers, numbers and booleans their schemas declare are
 * parsed here from canonical text before validation (`?limit=5`), and anything else stays text and fails validation
 * (`?limit=5x`, `?limit=05`, a repeated parameter). Not encapsulated: it serves every route group.
 */
async function inputs(app: FastifyInstance): Promise<void> {
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema as { querystring?: unknown; params?: unknown } | undefined;
    if (!schema) return;
    parseDeclared(request.query, schema.querystring);
    parseDeclared(request.params, schema.params);
  });
}

export const inputsPlugin = fp(inputs, { name: 'imgpipe-inputs', fastify: '5.x' });
