/**
 * The published Avro schemas (schemas/*.avsc, what other systems read) agree with the result contract's shapes
 * (results.ts): every field of the contract has its Avro field, of the corresponding type and optionality, and the
 * Avro records carry no field the contract lacks. Read from the committed files, not from event-schemas.ts, so a
 * hand edit of a file, or a hand-written part of event-schemas.ts, that drifts from the contract fails here.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { describe, test } from 'node:test';
import { type Fields, listOf, optional, required, type Shape } from './data-shape.ts';
import type { StageOutcome, StageOutcomeStatus } from './events.ts';
import {
  DetectedFace,
  DetectedObject,
  ImageAnalysis,
  ImageInfo,
  RecognizedText,
  StageReport,
  type StageStatus,
} from './results.ts';
import { loadEventSchemas } from './schemas.ts';
import type { EventType } from './topics.ts';

type Json = Record<string, unknown>;

const ENVELOPE = ['imageId', 'tenantId', 'occurredAt'];

type Named = Map<string, Json>;

/** The named records of one schema file, by name: after its first use a record is referred to by name only. */
function namedRecords(eventType: EventType): Named {
  const named: Named = new Map();
  const walk = (type: unknown): void => {
    if (Array.isArray(type)) type.forEach(walk);
    else if (type && typeof type === 'object') {
      const node = type as Json;
      if (node['type'] === 'record') {
        named.set(node['name'] as string, node);
        for (const field of node['fields'] as Json[]) walk(field['type']);
      } else walk(node['items'] ?? node['values']);
    }
  };
  walk(JSON.parse(loadEventSchemas()[eventType].text));
  return named;
}

/** How the committed schema of an event differs from the contract's fields (plus the event's own fields). */
function eventProblems(eventType: EventType, fields: Fields, own: readonly string[]): string[] {
  const named = namedRecords(eventType);
  return fieldProblems(fields, named.get(eventType)!, eventType, own, named);
}

/** How an Avro type differs from a contract shape; empty when they correspond. */
function typeProblems(shape: Shape, avro: unknown, where: string, named: Named): string[] {
  const type = typeof avro === 'string' && named.has(avro) ? named.get(avro)! : avro;
  const node = (type && typeof type === 'object' ? type : {}) as Json;
  const differs = (expected: string) => [`${where}: the contract has ${expected}, Avro has ${JSON.stringify(avro)}`];
  switch (shape.kind) {
    case 'string':
    case 'dateTime':
    case 'oneOf':
      return type === 'string' ? [] : differs(`a ${shape.kind} (an Avro string)`);
    case 'uuid':
      return isDeepStrictEqual(type, { type: 'string', logicalType: 'uuid' }) ? [] : differs('a uuid');
    case 'int':
    case 'long':
    case 'double':
    case 'boolean':
      return type === shape.kind ? [] : differs(`a ${shape.kind}`);
    case 'list':
      return node['type'] === 'array'
        ? typeProblems(shape.items, node['items'], `${where}[]`, named)
        : differs('a list');
    case 'keyed':
    case 'map':
      return node['type'] === 'map'
        ? typeProblems(shape.values, node['values'], `${where}{}`, named)
        : differs('a map');
    case 'record':
      if (node['type'] !== 'record' || node['name'] !== shape.name) return differs(`record ${shape.name}`);
      return fieldProblems(shape.fields, node, where, [], named);
  }
}

/** Field by field, both ways; `own` names the Avro fields that belong to the event rather than to the contract. */
function fieldProblems(
  fields: Fields,
  avroRecord: Json,
  where: string,
  own: readonly string[],
  named: Named,
): string[] {
  const avroFields = avroRecord['fields'] as Json[];
  const problems: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const avro = avroFields.find((candidate) => candidate['name'] === name);
    const at = `${where}.${name}`;
    if (!avro) {
      problems.push(`${at}: in the contract, not in Avro`);
    } else if (field.optional) {
      const union = avro['type'];
      if (!Array.isArray(union) || union.length !== 2 || union[0] !== 'null' || avro['default'] !== null) {
        problems.push(`${at}: optional in the contract, so Avro needs ["null", T] defaulting to null`);
      } else problems.push(...typeProblems(field.shape, union[1], at, named));
    } else if (Array.isArray(avro['type'])) {
      problems.push(`${at}: required in the contract, a union in Avro`);
    } else problems.push(...typeProblems(field.shape, avro['type'], at, named));
  }
  for (const avro of avroFields) {
    const name = avro['name'] as string;
    if (!(name in fields) && !own.includes(name)) problems.push(`${where}.${name}: in Avro, not in the contract`);
  }
  return problems;
}

describe('the Avro schemas and the result contract', () => {
  test('ImageAnalyzed is the envelope plus every field of ImageAnalysis', () => {
    assert.deepEqual(eventProblems('ImageAnalyzed', ImageAnalysis.fields, ENVELOPE), []);
  });

  test("each stage event carries a StageReport's fields and its results in the contract's records", () => {
    const results: Record<string, Fields> = {
      // The producer's attributes travel through preprocessing to ImageAnalyzed, in the contract's type.
      ImagePreprocessed: { image: optional(ImageInfo, ''), attributes: ImageAnalysis.fields.attributes },
      ObjectsDetected: { objects: required(listOf(DetectedObject), '') },
      FacesDetected: { faces: required(listOf(DetectedFace), '') },
      TextRecognized: { text: required(RecognizedText, '') },
      // The renditions the transform stage stored, in the contract's record, as ImageAnalyzed lists them.
      ImageTransformed: { renditions: ImageAnalysis.fields.renditions },
      // The keypoint summary, in the contract's record, as ImageAnalyzed carries it.
      FeaturesExtracted: { features: ImageAnalysis.fields.features },
    };
    // ImagePreprocessed also carries what the models read, the presets the transform stage renders and the OCR model
    // set the upload named, which are not part of what users get (the ocr stage's model identity is).
    const own = [
      ...ENVELOPE,
      'sourceName',
      'analyses',
      'original',
      'derivatives',
      'renditions',
      'ocrModel',
      'ocrLanguages',
    ];
    for (const [eventType, fields] of Object.entries(results)) {
      assert.deepEqual(eventProblems(eventType as EventType, { ...StageReport.fields, ...fields }, own), []);
    }
  });

  test('the checker itself finds a missing field, a changed type, a lost optionality and an extra field', () => {
    const named = namedRecords('ObjectsDetected');
    const record = structuredClone(named.get('ObjectsDetected')!);
    const fields = record['fields'] as Json[];
    const field = (name: string) => fields.find((candidate) => candidate['name'] === name)!;
    fields.splice(fields.indexOf(field('durationMs')), 1);
    field('status')['type'] = 'int';
    field('error')['type'] = 'StageError';
    fields.push({ name: 'extra', type: 'string' });
    const problems = fieldProblems(
      { ...StageReport.fields, objects: required(listOf(DetectedObject), '') },
      record,
      'X',
      ENVELOPE,
      named,
    );
    assert.deepEqual(problems, [
      'X.status: the contract has a oneOf (an Avro string), Avro has "int"',
      'X.error: optional in the contract, so Avro needs ["null", T] defaulting to null',
      'X.durationMs: in the contract, not in Avro',
      'X.extra: in Avro, not in the contract',
    ]);
  });

  test("the events' hand-written StageOutcome is a StageReport with a narrower status (checked by the compiler)", () => {
    type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
    const sameFields: Equal<Omit<StageOutcome, 'status'>, Omit<StageReport, 'status'>> = true;
    const narrower: StageOutcomeStatus extends StageStatus ? true : false = true;
    assert.ok(sameFields && narrower);
  });
});
