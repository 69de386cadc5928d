/**
 * The example events (and the example HTTP views built from them) are valid against the committed Avro schemas and
 * against the result contract's JSON Schemas, closed (no property the contract lacks). Two validators of different
 * origin, so an example, a schema file or a contract shape that drifts from the others fails here.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { jsonSchemaOf, listOf, type Shape } from './data-shape.ts';
import { exampleEvents } from './example-events.ts';
import { exampleImageSummary, exampleImageView } from './example-views.ts';
import { ImageSummary, ImageView } from './image-view.ts';
import { DetectedFace, DetectedObject, ImageAnalysis, ImageInfo, RecognizedText, StageReport } from './results.ts';
import { loadEventSchemas } from './schemas.ts';
import { EVENT_TYPE_NAMES } from './topics.ts';

const ajv = new Ajv({
  allErrors: true,
  formats: {
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
  },
});

/** What ajv finds wrong with a value against a shape's closed JSON Schema; empty when valid. */
function jsonProblems(shape: Shape, value: unknown): string[] {
  const validate = ajv.compile(jsonSchemaOf(shape, { closed: true }));
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) => `${error.instancePath || '(root)'} ${error.message} ${JSON.stringify(error.params)}`,
  );
}

function avroProblems(eventType: (typeof EVENT_TYPE_NAMES)[number], value: unknown): string[] {
  const problems: string[] = [];
  loadEventSchemas()[eventType].type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path, found) => problems.push(`${path.join('.')}: ${JSON.stringify(found)}`),
  });
  return problems;
}

function stageReportOf(event: { status: string; error?: unknown; model?: unknown; durationMs?: number }) {
  const { status, error, model, durationMs } = event;
  return {
    status,
    ...(error ? { error } : {}),
    ...(model ? { model } : {}),
    ...(durationMs === undefined ? {} : { durationMs }),
  };
}

describe('the example events', () => {
  test('every example event is valid against its committed Avro schema', () => {
    const examples = exampleEvents();
    for (const eventType of EVENT_TYPE_NAMES) {
      assert.deepEqual(avroProblems(eventType, examples[eventType]), [], eventType);
    }
  });

  test("the result contract's parts of each event are valid against the contract's JSON Schemas", () => {
    const { ImageAnalyzed, ImagePreprocessed, ObjectsDetected, FacesDetected, TextRecognized } = exampleEvents();
    const { tenantId, occurredAt, ...analysis } = ImageAnalyzed;
    assert.deepEqual(jsonProblems(ImageAnalysis, analysis), [], 'ImageAnalyzed');
    assert.deepEqual(jsonProblems(ImageInfo, ImagePreprocessed.image), [], 'ImagePreprocessed.image');
    assert.deepEqual(jsonProblems(listOf(DetectedObject), ObjectsDetected.objects), [], 'ObjectsDetected.objects');
    assert.deepEqual(jsonProblems(listOf(DetectedFace), FacesDetected.faces), [], 'FacesDetected.faces');
    assert.deepEqual(jsonProblems(RecognizedText, TextRecognized.text), [], 'TextRecognized.text');
    for (const [eventType, event] of Object.entries({
      ImagePreprocessed,
      ObjectsDetected,
      FacesDetected,
      TextRecognized,
    })) {
      assert.deepEqual(jsonProblems(StageReport, stageReportOf(event)), [], `${eventType}: its outcome`);
    }
    // ImageUploaded and DeadLetter carry no part of the result contract: Avro is their only schema.
  });

  test("the example HTTP views are valid against the view shapes' JSON Schemas (the API's Image and ImageSummary)", () => {
    assert.deepEqual(jsonProblems(ImageView, exampleImageView()), []);
    assert.deepEqual(jsonProblems(ImageSummary, exampleImageSummary()), []);
  });

  test('both validators refuse an object without a required field, or with a field the contract lacks', () => {
    const event = exampleEvents().ObjectsDetected;
    const { classId, ...withoutClassId } = event.objects[0]!;
    const broken = { ...event, objects: [withoutClassId] };
    assert.deepEqual(avroProblems('ObjectsDetected', broken), ['objects.0.classId: undefined']);
    assert.match(jsonProblems(listOf(DetectedObject), broken.objects).join(), /must have required property 'classId'/);
    const extra = { ...event, objects: [{ ...event.objects[0], classId, colour: 'red' }] };
    assert.match(avroProblems('ObjectsDetected', extra).join(), /^objects\.0: \{.*"colour":"red"\}$/);
    assert.match(jsonProblems(listOf(DetectedObject), extra.objects).join(), /must NOT have additional properties/);
  });
});
