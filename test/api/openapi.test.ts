import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recipeJsonSchema } from '@imgpipe/imaging';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestApi, type TestApi } from './support.ts';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
}

describe('the OpenAPI document', () => {
  let api: TestApi;
  let document: OpenApiDocument;

  before(async () => {
    api = await startTestApi();
    const response = await fetch(`${api.url}/openapi.json`);
    assert.equal(response.status, 200);
    document = (await response.json()) as OpenApiDocument;
  });
  after(() => api.close());

  test('is OpenAPI 3.1 and validates against the specification schema', async () => {
    assert.equal(document.openapi, '3.1.0');
    const result = await new Validator().validate(structuredClone(document) as never);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  test('lists every route the app serves (besides the documentation routes themselves)', () => {
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const served = api.api.app.registeredRoutes
      .filter((route) => route.method !== 'HEAD' && !route.hidden && !route.url.startsWith('/docs'))
      .map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    assert.ok(served.length >= 15, `routes: ${served.join(', ')}`);
    const missing = served.filter((route) => !documented.has(route));
    assert.deepEqual(missing, [], 'routes missing from /openapi.json');
    for (const expected of [
      'POST /v1/images',
      'POST /v1/batches',
      'GET /v1/images',
      'GET /v1/images/{id}',
      'GET /v1/images/{id}/annotated',
      'GET /v1/images/{id}/events',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      assert.ok(documented.has(expected), expected);
    }
  });

  test('documents the annotated image: keypoints is a boolean, and the 409 it may answer', () => {
    const annotated = document.paths['/v1/images/{id}/annotated']!['get'] as unknown as {
      parameters: { name: string; in: string; schema: { type: string; default?: unknown } }[];
      responses: Record<string, unknown>;
    };
    const keypoints = annotated.parameters.find((p) => p.in === 'query' && p.name === 'keypoints');
    assert.deepEqual([keypoints?.schema.type, keypoints?.schema.default], ['boolean', false]);
    assert.deepEqual(Object.keys(annotated.responses).sort(), [
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '422',
      '429',
      '503',
    ]);
  });

  test('documents the upload body forms, security, and problem responses', () => {
    const upload = document.paths['/v1/images']!['post'] as unknown as {
      requestBody: { content: Record<string, unknown> };
      security: unknown[];
      responses: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(upload.requestBody.content).sort(), [
      'application/json',
      'application/octet-stream',
      'image/*',
      'multipart/form-data',
    ]);
    assert.ok(upload.security.length > 0);
    for (const status of ['202', '401', '413', '415', '429']) assert.ok(upload.responses[status], status);
    const problem = JSON.stringify(upload.responses['413']);
    assert.match(problem, /application\/problem\+json|Problem/);
  });

  test('documents sign-in, sessions and users, with every status they answer', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();
    const auth = ['401', '403', '429', '503'];
    assert.deepEqual(statuses('/v1/auth/login', 'post'), ['200', '400', '401', '415', '429', '501', '503'].sort());
    assert.deepEqual(statuses('/v1/auth/refresh', 'post'), ['200', '400', '401', '403', '415', '429', '501', '503']);
    assert.deepEqual(statuses('/v1/auth/logout', 'post'), ['204', '400', '401', '403', '415', '429', '501', '503']);
    assert.deepEqual(statuses('/v1/auth/me', 'get'), ['200', ...auth].sort());
    assert.deepEqual(statuses('/v1/auth/audit', 'get'), ['200', '400', ...auth].sort());
    assert.deepEqual(statuses('/v1/users', 'get'), ['200', ...auth].sort());
    assert.deepEqual(statuses('/v1/users', 'post'), ['201', '400', '409', '415', '422', ...auth].sort());
    assert.deepEqual(statuses('/v1/users/{id}', 'patch'), ['200', '400', '404', '409', '415', ...auth].sort());
    assert.deepEqual(statuses('/v1/users/{id}/password', 'put'), ['204', '400', '404', '415', '422', ...auth].sort());
    for (const path of ['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout']) {
      assert.equal(document.paths[path]!['post']!.security, undefined, `${path} needs no token`);
    }
    assert.ok((document.paths['/v1/users']!['post']!.security ?? []).length > 0);
  });

  test('documents the pipeline operations routes and every status they answer', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort();
    const auth = ['401', '403', '429', '503'];
    assert.deepEqual(statuses('/v1/admin/stages', 'get'), ['200', ...auth].sort());
    for (const action of ['pause', 'resume']) {
      assert.deepEqual(statuses(`/v1/admin/stages/{name}/${action}`, 'post'), ['200', '400', ...auth].sort(), action);
    }
    assert.deepEqual(statuses('/v1/admin/reprocess', 'post'), ['202', '400', '409', ...auth].sort());
    assert.deepEqual(statuses('/v1/admin/images/{id}/redrive', 'post'), ['202', '400', '404', '409', ...auth].sort());
    for (const [path, method] of [
      ['/v1/admin/stages', 'get'],
      ['/v1/admin/stages/{name}/pause', 'post'],
      ['/v1/admin/reprocess', 'post'],
      ['/v1/admin/images/{id}/redrive', 'post'],
    ] as const) {
      assert.ok((document.paths[path]![method]!.security ?? []).length > 0, `${method} ${path} needs a token`);
    }
  });

  test("documents transform and renditions, with the imaging package's Recipe schema", () => {
    const doc = document as unknown as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, { properties?: { ops?: { items?: { oneOf?: unknown[] } } } }> };
    };
    const statuses = (path: string, method: string) =>
      Object.keys((doc.paths[path]?.[method]?.['responses'] as object | undefined) ?? {}).sort();
    const auth = ['401', '403', '429', '503'];
    assert.deepEqual(statuses('/v1/transform', 'post'), ['200', '400', '413', '415', '422', ...auth].sort());
    assert.deepEqual(
      statuses('/v1/images/{id}/renditions/{recipe}', 'get'),
      ['200', '304', '400', '404', '413', '422', ...auth].sort(),
    );
    assert.deepEqual(statuses('/v1/images/{id}/rendition-urls', 'post'), ['200', '400', '404', '501', ...auth].sort());
    assert.deepEqual(
      statuses('/v1/renditions/{tenant}/{id}/{recipe}', 'get'),
      ['200', '304', '400', '403', '404', '413', '422', '429', '503'].sort(),
    );
    assert.equal(doc.paths['/v1/renditions/{tenant}/{id}/{recipe}']!['get']!['security'], undefined, 'no token');
    // The JSON form's schema is the imaging package's own, one branch per operation and crop mode.
    const recipe = doc.components.schemas['Recipe'];
    assert.equal(
      recipe?.properties?.ops?.items?.oneOf?.length,
      (recipeJsonSchema() as typeof recipe)?.properties?.ops?.items?.oneOf?.length,
    );
    const body = doc.paths['/v1/transform']!['post']!['requestBody'] as {
      content: Record<string, { schema: { properties: Record<string, { $ref?: string }> } }>;
    };
    assert.equal(body.content['application/json']!.schema.properties['recipe']!.$ref, '#/components/schemas/Recipe');
    assert.equal(body.content['multipart/form-data']!.schema.properties['recipe']!.$ref, '#/components/schemas/Recipe');
  });

  test('the docs UI is served at /docs', async () => {
    const response = await fetch(`${api.url}/docs/`, { redirect: 'follow' });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /swagger/i);
  });
});
