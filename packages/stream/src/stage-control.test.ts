import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyControlRecord, controlKey, emptyControlState, parseControlRecord } from './stage-control.ts';
import { checkStageOperationsSettings } from './stage-operations.ts';

test('control records parse, and later ones replace earlier ones of the same key', () => {
  const state = emptyControlState();
  const records = [
    { kind: 'pause', stage: 'detect', paused: true, at: 1, by: 'cli:me' },
    { kind: 'model', stage: 'detect', model: { name: 'a', version: '1', sha256: 'x' }, at: 2, host: 'h' },
    { kind: 'pause', stage: 'detect', paused: false, at: 3 },
  ];
  for (const record of records) {
    const parsed = parseControlRecord(Buffer.from(JSON.stringify(record)));
    assert.ok(parsed);
    applyControlRecord(state, parsed);
  }
  assert.equal(state.pauses.get('detect')?.paused, false);
  assert.equal(state.models.get('detect')?.model.version, '1');
  assert.equal(controlKey({ kind: 'pause', stage: 'ocr' }), 'pause/ocr');
});

test('anything that is not a control record is ignored', () => {
  for (const value of ['', 'not json', '[]', '{"kind":"pause","stage":"x"}', '{"kind":"model","stage":"x","at":1}']) {
    assert.equal(parseControlRecord(Buffer.from(value)), undefined, value);
  }
  assert.equal(parseControlRecord(null), undefined);
});

test('a stall check interval longer than the stall time is a configuration error', () => {
  assert.throws(() => checkStageOperationsSettings({ stallAfterMs: 1000, stallCheckIntervalMs: 2000 }), {
    code: 'CONFIG_INVALID',
  });
  checkStageOperationsSettings({ stallAfterMs: 1000, stallCheckIntervalMs: 1000 });
});
