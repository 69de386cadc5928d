import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { askedAnalyses, checkEventRules, requestedAnalyses, requestsFeatures } from './event-rules.ts';
import { exampleEvents } from './example-events.ts';
import {
  ALL_TOPICS,
  ANALYSES,
  consumerGroupFor,
  DEAD_LETTER_TOPICS,
  EVENT_TYPE_NAMES,
  EVENT_TYPES,
  eventSubjects,
  isEventType,
  RESULTS_INPUTS,
  STAGE_INPUTS,
  STAGE_OUTPUTS,
  stageOfEvent,
  subjectFor,
  topicsForEvent,
} from './topics.ts';

// The names other systems and the deployment manifests depend on, written out once more by hand.
describe('topic map', () => {
  test('each pipeline event has its own topic', () => {
    assert.deepEqual(EVENT_TYPES, {
      ImageUploaded: 'images.uploaded',
      ImagePreprocessed: 'images.preprocessed',
      ObjectsDetected: 'images.detected',
      FacesDetected: 'images.faces',
      TextRecognized: 'images.text',
      ImageAnalyzed: 'images.analyzed',
      ImageTransformed: 'images.transformed',
      FeaturesExtracted: 'images.features',
    });
    assert.deepEqual(EVENT_TYPE_NAMES, [...Object.keys(EVENT_TYPES), 'DeadLetter']);
  });

  test('consumer groups, dead-letter topics and subjects', () => {
    assert.equal(consumerGroupFor('detect'), 'imgpipe.detect');
    assert.equal(consumerGroupFor('results'), 'imgpipe.results');
    assert.deepEqual(DEAD_LETTER_TOPICS, [
      'imgpipe.preprocess.dlq',
      'imgpipe.detect.dlq',
      'imgpipe.faces.dlq',
      'imgpipe.ocr.dlq',
      'imgpipe.aggregate.dlq',
      'imgpipe.transform.dlq',
      'imgpipe.features.dlq',
      'imgpipe.results.dlq',
    ]);
    assert.equal(subjectFor('images.uploaded'), 'images.uploaded-value');
  });

  test('what each stage reads and writes', () => {
    assert.deepEqual(STAGE_INPUTS, {
      preprocess: ['images.uploaded'],
      detect: ['images.preprocessed'],
      faces: ['images.preprocessed'],
      ocr: ['images.preprocessed'],
      aggregate: [
        'images.preprocessed',
        'images.detected',
        'images.faces',
        'images.text',
        'images.transformed',
        'images.features',
      ],
      transform: ['images.preprocessed'],
      features: ['images.preprocessed'],
    });
    assert.deepEqual(STAGE_OUTPUTS, {
      preprocess: 'images.preprocessed',
      detect: 'images.detected',
      faces: 'images.faces',
      ocr: 'images.text',
      aggregate: 'images.analyzed',
      transform: 'images.transformed',
      features: 'images.features',
    });
  });

  test('the results service reads every pipeline topic and every stage dead-letter topic, not its own', () => {
    // Not images.transformed, images.features nor their dead letters: the aggregate joins them into ImageAnalyzed.
    assert.deepEqual(RESULTS_INPUTS, [
      ...Object.values(EVENT_TYPES).filter((topic) => topic !== 'images.transformed' && topic !== 'images.features'),
      ...DEAD_LETTER_TOPICS.slice(0, 5),
    ]);
    assert.ok(!RESULTS_INPUTS.includes('images.transformed'));
    assert.ok(!RESULTS_INPUTS.includes('images.features'));
    assert.ok(!RESULTS_INPUTS.includes('imgpipe.results.dlq'));
    assert.deepEqual(ALL_TOPICS, [...Object.values(EVENT_TYPES), ...DEAD_LETTER_TOPICS]);
  });

  test('the stage each event reports', () => {
    assert.deepEqual(
      Object.keys(EVENT_TYPES).map((eventType) => stageOfEvent(eventType)),
      [undefined, 'preprocess', 'detect', 'faces', 'ocr', 'aggregate', undefined, undefined],
    );
    assert.equal(stageOfEvent('DeadLetter'), undefined);
    assert.equal(stageOfEvent('toString'), undefined, 'not fooled by Object.prototype');
  });

  test('isEventType accepts exactly the event type names', () => {
    for (const name of EVENT_TYPE_NAMES) assert.equal(isEventType(name), true, name);
    for (const other of ['imageUploaded', 'images.uploaded', '', 'toString', 7, undefined, ['DeadLetter']]) {
      assert.equal(isEventType(other), false, String(other));
    }
  });

  test('the topics of an event and the subjects the registry holds', () => {
    assert.deepEqual(topicsForEvent('ObjectsDetected'), ['images.detected']);
    assert.deepEqual(topicsForEvent('DeadLetter'), DEAD_LETTER_TOPICS);
    const subjects = eventSubjects();
    assert.equal(subjects.length, 8 + DEAD_LETTER_TOPICS.length);
    assert.deepEqual(subjects[0], {
      eventType: 'ImageUploaded',
      topic: 'images.uploaded',
      subject: 'images.uploaded-value',
    });
    assert.deepEqual(subjects.at(-1), {
      eventType: 'DeadLetter',
      topic: 'imgpipe.results.dlq',
      subject: 'imgpipe.results.dlq-value',
    });
  });
});

describe('requested analyses', () => {
  test('the known analyses asked for, in the order asked; all of them when none is', () => {
    assert.deepEqual(ANALYSES, ['detect', 'faces', 'ocr']);
    assert.deepEqual(requestedAnalyses({ analyses: ['ocr', 'detect'] }), ['ocr', 'detect']);
    assert.deepEqual(requestedAnalyses({ analyses: ['faces', 'colour'] }), ['faces']);
    assert.deepEqual(requestedAnalyses({ analyses: [] }), ['detect', 'faces', 'ocr']);
    assert.deepEqual(requestedAnalyses({ analyses: ['colour'] }), ['detect', 'faces', 'ocr']);
  });

  test('features is opt-in: never implied by an empty list, and alone it asks for no model analysis', () => {
    assert.deepEqual(requestedAnalyses({ analyses: ['features'] }), []);
    assert.deepEqual(requestedAnalyses({ analyses: ['features', 'ocr'] }), ['ocr']);
    assert.equal(requestsFeatures({ analyses: ['features', 'ocr'] }), true);
    assert.equal(requestsFeatures({ analyses: [] }), false);
    assert.equal(requestsFeatures({ analyses: ['detect', 'faces', 'ocr'] }), false);
  });

  test('what an image asked for, as its views report it, names features when asked and only then', () => {
    assert.deepEqual(askedAnalyses({ analyses: ['features'] }), ['features']);
    assert.deepEqual(askedAnalyses({ analyses: ['features', 'ocr'] }), ['ocr', 'features']);
    assert.deepEqual(askedAnalyses({ analyses: [] }), ['detect', 'faces', 'ocr']);
    assert.deepEqual(askedAnalyses({ analyses: ['detect', 'colour'] }), ['detect']);
  });

  test('only ImageUploaded has rules beyond its schema', () => {
    const both = { ...exampleEvents().ImageUploaded, inline: Buffer.from([1]) };
    assert.throws(() => checkEventRules('ImageUploaded', both), { code: 'CODEC_INVALID_PAYLOAD' });
    assert.doesNotThrow(() => checkEventRules('ImagePreprocessed', both));
  });
});
