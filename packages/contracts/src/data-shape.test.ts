import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorCode } from '@imgpipe/core';
import {
  avroFieldsOf,
  avroTypeOf,
  boolean,
  dateTime,
  double,
  type Infer,
  int,
  jsonSchemaOf,
  keyedBy,
  listOf,
  long,
  mapOf,
  oneOf,
  optional,
  record,
  required,
  string,
  uuid,
} from './data-shape.ts';
import { selfContained } from './avro-schema.ts';
import type { ImageAnalysis, StageError, TextLine } from './results.ts';
import { PixelBox } from './results.ts';
import type { StageName } from './topics.ts';

/** True only when A and B are the same type (optional vs required and extra properties included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const Corner = record('Corner', 'A corner.', { x: required(double, 'Across.'), y: required(double, 'Down.') });
const Sample = record('Sample', 'Every kind of shape once.', {
  id: required(uuid, 'Id.'),
  name: optional(string, 'Name.'),
  at: required(dateTime, 'When.'),
  count: required(int, 'How many.'),
  size: optional(long, 'How big.'),
  ok: required(boolean, 'Whether.'),
  colour: required(oneOf(['red', 'green']), 'Which.'),
  corners: required(listOf(Corner), 'Corners.'),
  byCorner: required(keyedBy(['tl', 'br'], Corner), 'Two corners by name.'),
  spare: optional(Corner, 'Another corner.'),
});

describe('data shapes', () => {
  test('Infer gives the TypeScript type: optional fields are optional properties, oneOf a literal union', () => {
    type Expected = {
      id: string;
      name?: string;
      at: string;
      count: number;
      size?: number;
      ok: boolean;
      colour: 'red' | 'green';
      corners: { x: number; y: number }[];
      byCorner: Record<'tl' | 'br', { x: number; y: number }>;
      spare?: { x: number; y: number };
    };
    const same: Equal<Infer<typeof Sample>, Expected> = true;
    // The contract's own types keep what the hand-written interfaces said.
    const code: Equal<StageError['code'], ErrorCode> = true;
    const stages: Equal<keyof ImageAnalysis['stages'], StageName> = true;
    const words: Equal<
      TextLine['words'],
      { text: string; confidence: number; polygon: { x: number; y: number }[] }[] | undefined
    > = true;
    assert.ok(same && code && stages && words);
  });

  test('jsonSchemaOf: required lists the non-optional fields, docs become descriptions, closed on request', () => {
    assert.deepEqual(jsonSchemaOf(Corner), {
      description: 'A corner.',
      type: 'object',
      required: ['x', 'y'],
      properties: { x: { type: 'number', description: 'Across.' }, y: { type: 'number', description: 'Down.' } },
    });
    const sample = jsonSchemaOf(Sample, { closed: true }) as {
      required: string[];
      properties: Record<string, unknown>;
    };
    assert.deepEqual(sample.required, ['id', 'at', 'count', 'ok', 'colour', 'corners', 'byCorner']);
    assert.deepEqual(sample.properties['id'], { type: 'string', format: 'uuid', description: 'Id.' });
    assert.deepEqual(sample.properties['at'], { type: 'string', format: 'date-time', description: 'When.' });
    assert.deepEqual(sample.properties['size'], { type: 'integer', description: 'How big.' });
    assert.deepEqual(sample.properties['colour'], { type: 'string', enum: ['red', 'green'], description: 'Which.' });
    const closedCorner = { ...jsonSchemaOf(Corner, { closed: true }) };
    assert.deepEqual(sample.properties['byCorner'], {
      type: 'object',
      required: ['tl', 'br'],
      properties: { tl: closedCorner, br: closedCorner },
      additionalProperties: false,
      description: 'Two corners by name.',
    });
    assert.equal((sample as Record<string, unknown>)['additionalProperties'], false);
  });

  test('avroFieldsOf: optional is a null-first union defaulting to null, lists default to [], maps to {}', () => {
    const fields = avroFieldsOf(Sample.fields);
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    assert.deepEqual(byName['id'], { name: 'id', type: { type: 'string', logicalType: 'uuid' }, doc: 'Id.' });
    assert.deepEqual(byName['name'], { name: 'name', type: ['null', 'string'], doc: 'Name.', default: null });
    assert.deepEqual(byName['at'], { name: 'at', type: 'string', doc: 'When.' });
    assert.deepEqual(byName['count'], { name: 'count', type: 'int', doc: 'How many.' });
    assert.deepEqual(byName['size'], { name: 'size', type: ['null', 'long'], doc: 'How big.', default: null });
    assert.deepEqual(byName['colour'], { name: 'colour', type: 'string', doc: 'Which.' });
    assert.equal(byName['corners']?.default?.constructor, Array);
    assert.deepEqual(byName['byCorner']?.default, {});
    assert.equal(fields.map((f) => f.name).join(), Object.keys(Sample.fields).join(), 'fields keep their order');
  });

  test("mapOf: any string keys (the producer's own names), an object of those values, an Avro map defaulting to {}", () => {
    const Tagged = record('Tagged', 'Tagged.', { tags: required(mapOf(string), 'Tags.') });
    const same: Equal<Infer<typeof Tagged>, { tags: Record<string, string> }> = true;
    assert.ok(same);
    const schema = jsonSchemaOf(Tagged, { closed: true }) as { properties: Record<string, unknown> };
    // Closed records stay closed; a map's keys are data, so it admits any name, each a string.
    assert.deepEqual(schema.properties['tags'], {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Tags.',
    });
    assert.deepEqual(avroFieldsOf(Tagged.fields), [
      { name: 'tags', type: { type: 'map', values: 'string' }, doc: 'Tags.', default: {} },
    ]);
  });

  test('a record shape renders to one Avro record object, so a self-contained schema names it once', () => {
    assert.equal(avroTypeOf(PixelBox), avroTypeOf(PixelBox));
    const root = selfContained(
      { type: 'record', name: 'Root', doc: 'Root.', fields: avroFieldsOf(Sample.fields) },
      'io.example',
    );
    const text = JSON.stringify(root);
    assert.equal(text.split('"name":"Corner"').length - 1, 1, 'Corner is defined once and referred to by name');
  });
});
