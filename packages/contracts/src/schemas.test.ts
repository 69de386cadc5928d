import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import avro from 'avsc';
import { toPlainValue } from './avro-body.ts';
import { schemaFileText } from './event-schemas.ts';
import { exampleEvents } from './example-events.ts';
import { DEFAULT_SCHEMAS_DIR, loadEventSchemas, parseEventSchema, schemaFileName } from './schemas.ts';
import { EVENT_TYPE_NAMES, eventSubjects } from './topics.ts';

type Json = Record<string, unknown>;

/** Every record of a schema, walking unions, arrays and maps. */
function records(type: unknown, found: Json[] = []): Json[] {
  if (Array.isArray(type)) for (const branch of type) records(branch, found);
  else if (type && typeof type === 'object') {
    const node = type as Json;
    if (node['type'] === 'record') {
      found.push(node);
      for (const field of node['fields'] as Json[]) records(field['type'], found);
    } else if (node['type'] === 'array') records(node['items'], found);
    else if (node['type'] === 'map') records(node['values'], found);
  }
  return found;
}

describe('event schemas', () => {
  test('the committed .avsc files are what event-schemas.ts generates (run node scripts/generate-schemas.ts)', () => {
    for (const eventType of EVENT_TYPE_NAMES) {
      const committed = readFileSync(join(DEFAULT_SCHEMAS_DIR, schemaFileName(eventType)), 'utf8');
      assert.ok(committed === schemaFileText(eventType), `${schemaFileName(eventType)} is stale: regenerate it`);
    }
  });

  test('every schema loads as io.imgpipe.events.<EventType>', () => {
    const schemas = loadEventSchemas();
    for (const eventType of EVENT_TYPE_NAMES) {
      assert.equal(schemas[eventType].type.name, `io.imgpipe.events.${eventType}`);
    }
  });

  test('every record and field is documented, optional fields are null-first unions defaulting to null, no enums', () => {
    for (const eventType of EVENT_TYPE_NAMES) {
      const root = JSON.parse(schemaFileText(eventType)) as Json;
      assert.equal(root['namespace'], 'io.imgpipe.events');
      for (const record of records(root)) {
        assert.ok(record['doc'], `${eventType}: record ${String(record['name'])} has no doc`);
        for (const field of record['fields'] as Json[]) {
          const where = `${eventType}: ${String(record['name'])}.${String(field['name'])}`;
          assert.ok(typeof field['doc'] === 'string' && field['doc'].length > 0, `${where} has no doc`);
          if (Array.isArray(field['type'])) {
            assert.equal(field['type'][0], 'null', `${where}: a union must start with null`);
            assert.equal(field['default'], null, `${where}: a union must default to null`);
          }
        }
      }
      assert.doesNotMatch(schemaFileText(eventType), /"enum"/, `${eventType} uses an Avro enum`);
    }
  });

  test('a new optional field is readable from old data (the evolution the registry enforces)', () => {
    const current = loadEventSchemas().ImageUploaded;
    const evolved = JSON.parse(current.text) as Json;
    (evolved['fields'] as Json[]).push({ name: 'priority', type: ['null', 'int'], default: null, doc: 'later' });
    const reader = avro.Type.forSchema(evolved as avro.Schema);
    const old = current.type.toBuffer({ ...oldUpload(), attributes: {} });
    const read = reader.fromBuffer(old, reader.createResolver(current.type)) as Json;
    assert.equal(read['priority'], null);
    assert.equal(read['imageId'], oldUpload().imageId);
  });

  test('attributes were added to ImagePreprocessed and ImageAnalyzed with a default: both directions still read', () => {
    for (const eventType of ['ImagePreprocessed', 'ImageAnalyzed'] as const) {
      const current = loadEventSchemas()[eventType];
      const before = JSON.parse(current.text) as Json;
      before['fields'] = (before['fields'] as Json[]).filter((f) => f['name'] !== 'attributes');
      const older = avro.Type.forSchema(before as avro.Schema);
      const { attributes, ...event } = exampleEvents()[eventType];
      assert.deepEqual(attributes, { album: 'trips', camera: 'phone' });
      // Written before the field existed, read now: no attributes, as {}.
      const fromOld = current.type.fromBuffer(older.toBuffer(event), current.type.createResolver(older));
      assert.deepEqual((toPlainValue(fromOld) as Json)['attributes'], {}, `${eventType} from old data`);
      // Written now, read by a consumer that does not know the field yet: skipped, everything else intact.
      const written = current.type.toBuffer({ ...event, attributes });
      const byOld = toPlainValue(older.fromBuffer(written, older.createResolver(current.type)));
      assert.deepEqual(byOld, toPlainValue(older.fromBuffer(older.toBuffer(event))), `${eventType} by an old reader`);
      // And the current reader gets them back.
      assert.deepEqual((toPlainValue(current.type.fromBuffer(written)) as Json)['attributes'], attributes);
    }
  });

  test('a schema file that is not JSON, not Avro, or another record is SCHEMA_INVALID', () => {
    assert.throws(() => parseEventSchema('{', 'ImageUploaded'), { code: 'SCHEMA_INVALID', message: /not JSON/ });
    assert.throws(() => parseEventSchema('{"type":"record","name":"X","fields":[{"name":"a"}]}', 'ImageUploaded'), {
      code: 'SCHEMA_INVALID',
      message: /not a valid Avro schema/,
    });
    assert.throws(() => parseEventSchema(loadEventSchemas().DeadLetter.text, 'ImageUploaded'), {
      code: 'SCHEMA_INVALID',
      message: /defines io.imgpipe.events.DeadLetter/,
    });
  });

  test('subjects: one per pipeline topic and one per dead-letter topic, all distinct', () => {
    const subjects = eventSubjects();
    assert.equal(new Set(subjects.map((s) => s.subject)).size, subjects.length);
    assert.deepEqual(
      subjects.filter((s) => s.eventType !== 'DeadLetter').map((s) => s.subject),
      [
        'images.uploaded-value',
        'images.preprocessed-value',
        'images.detected-value',
        'images.faces-value',
        'images.text-value',
        'images.analyzed-value',
        'images.transformed-value',
        'images.features-value',
      ],
    );
    assert.deepEqual(
      subjects.filter((s) => s.eventType === 'DeadLetter').map((s) => s.subject),
      [
        'imgpipe.preprocess.dlq-value',
        'imgpipe.detect.dlq-value',
        'imgpipe.faces.dlq-value',
        'imgpipe.ocr.dlq-value',
        'imgpipe.aggregate.dlq-value',
        'imgpipe.transform.dlq-value',
        'imgpipe.features.dlq-value',
        'imgpipe.results.dlq-value',
      ],
    );
  });
});

function oldUpload() {
  return {
    imageId: '0b7c6f4e-3f2a-4d1e-9a51-7c2b8e1d4f60',
    tenantId: 't',
    occurredAt: 1,
    inline: Buffer.from([1, 2, 3]),
    sha256: 'ab',
    size: 3,
    analyses: [],
  };
}
