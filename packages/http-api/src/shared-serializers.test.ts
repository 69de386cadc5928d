import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { sharedSerializers } from './shared-serializers.ts';

const external = {
  Problem: {
    $id: 'Problem',
    type: 'object',
    properties: { code: { type: 'string' }, status: { type: 'integer' } },
    required: ['code', 'status'],
  },
};
const problem = { $ref: 'Problem#' };
const image = { type: 'object', properties: { imageId: { type: 'string' }, size: { type: 'integer' } } };

test('routes with equal response schemas share one serializer; others get their own', () => {
  const compile = sharedSerializers()(external, {});
  const a = compile({ method: 'GET', url: '/a', httpStatus: '404', schema: problem });
  const b = compile({ method: 'POST', url: '/b', httpStatus: '400', schema: { ...problem } });
  const c = compile({ method: 'GET', url: '/a', httpStatus: '200', schema: image });
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test("a shared serializer writes what fastify's own would, fields outside the schema left out", () => {
  const ours = sharedSerializers()(external, {});
  const theirs = SerializerSelector()(external, {});
  const route = { method: 'GET', url: '/a', httpStatus: '200', schema: image };
  const value = { imageId: 'x', size: 3, secret: 'not in the schema' };
  assert.equal(ours(route)(value), theirs(route)(value));
  assert.equal(ours(route)(value), '{"imageId":"x","size":3}');
  const failure = { code: 'IMAGE_NOT_FOUND', status: 404, stack: 'hidden' };
  const problemRoute = { ...route, httpStatus: '404', schema: problem };
  assert.equal(ours(problemRoute)(failure), theirs(problemRoute)(failure));
});

test('separate sets of shared schemas (encapsulated plugins) never share a serializer', () => {
  const factory = sharedSerializers();
  const other = { Problem: { ...external.Problem, properties: { code: { type: 'string' } }, required: ['code'] } };
  const route = { method: 'GET', url: '/a', httpStatus: '404', schema: problem };
  const value = { code: 'X', status: 404 };
  assert.equal(factory(external, {})(route)(value), '{"code":"X","status":404}');
  assert.equal(factory(other, {})(route)(value), '{"code":"X"}');
});
