import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imageStatusMayBecome, stageStatusMayBecome } from './status-order.ts';

describe('stageStatusMayBecome', () => {
  test('moves forward, never back', () => {
    assert.equal(stageStatusMayBecome(undefined, 'running'), true);
    assert.equal(stageStatusMayBecome('pending', 'running'), true);
    assert.equal(stageStatusMayBecome('running', 'completed'), true);
    assert.equal(stageStatusMayBecome('running', 'failed'), true);
    assert.equal(stageStatusMayBecome('completed', 'running'), false);
    assert.equal(stageStatusMayBecome('failed', 'running'), false);
    assert.equal(stageStatusMayBecome('completed', 'failed'), false);
    assert.equal(stageStatusMayBecome('skipped', 'pending'), false);
  });

  test('a failed stage may still complete (a redriven message); equal ranks keep the first', () => {
    assert.equal(stageStatusMayBecome('failed', 'completed'), true);
    assert.equal(stageStatusMayBecome('skipped', 'failed'), false);
    assert.equal(stageStatusMayBecome('failed', 'skipped'), false);
    assert.equal(stageStatusMayBecome('failed', 'failed'), true);
  });
});

describe('imageStatusMayBecome', () => {
  test('an outcome may improve, never degrade', () => {
    assert.equal(imageStatusMayBecome('pending', 'failed'), true);
    assert.equal(imageStatusMayBecome('partial', 'completed'), true);
    assert.equal(imageStatusMayBecome('completed', 'partial'), false);
    assert.equal(imageStatusMayBecome('partial', 'pending'), false);
  });
});
