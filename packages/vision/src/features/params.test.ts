import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { featureParamsKey, normalizeFeatureOptions } from './params.ts';

const invalid = (pattern: RegExp) => (error: unknown) =>
  error instanceof ImgpipeError && error.code === 'REQUEST_INVALID' && pattern.test(error.message);

describe('feature options', () => {
  test("default to SIFT with OpenCV's defaults", () => {
    assert.deepEqual(normalizeFeatureOptions(), {
      detector: 'sift',
      params: { nfeatures: 0, nOctaveLayers: 3, contrastThreshold: 0.04, edgeThreshold: 10, sigma: 1.6 },
    });
    assert.deepEqual(normalizeFeatureOptions({ detector: 'orb' }).params, {
      nfeatures: 500,
      scaleFactor: 1.2,
      nlevels: 8,
      edgeThreshold: 31,
      fastThreshold: 20,
      scoreType: 'harris',
    });
  });

  test('keep what is given and fill the rest', () => {
    const options = normalizeFeatureOptions({ detector: 'sift', params: { contrastThreshold: 0.03, nfeatures: 100 } });
    assert.ok(options.detector === 'sift');
    assert.equal(options.params.contrastThreshold, 0.03);
    assert.equal(options.params.nfeatures, 100);
    assert.equal(options.params.sigma, 1.6);
  });

  test('name the mistake: unknown detector, unknown parameter, out of range, not a number', () => {
    assert.throws(() => normalizeFeatureOptions({ detector: 'surf' }), invalid(/unknown detector 'surf'/));
    assert.throws(
      () => normalizeFeatureOptions({ params: { nfeatures: -1 } }),
      invalid(/nfeatures must be a whole number >= 0/),
    );
    assert.throws(() => normalizeFeatureOptions({ params: { nfeatures: 1.5 } }), invalid(/whole number/));
    assert.throws(() => normalizeFeatureOptions({ params: { sigma: 0 } }), invalid(/sigma must be a number > 0/));
    assert.throws(() => normalizeFeatureOptions({ params: { sigma: '1.6' } }), invalid(/got "1.6"/));
    assert.throws(() => normalizeFeatureOptions({ params: { threshold: 3 } }), invalid(/no parameter 'threshold'/));
    assert.throws(
      () => normalizeFeatureOptions({ detector: 'orb', params: { scaleFactor: 1 } }),
      invalid(/scaleFactor/),
    );
    assert.throws(() => normalizeFeatureOptions({ detector: 'orb', params: { scoreType: 'x' } }), invalid(/scoreType/));
  });

  test('equal options give equal keys whatever the order they were given in; different ones differ', () => {
    const a = featureParamsKey(normalizeFeatureOptions({ params: { sigma: 1.6, nfeatures: 10 } }));
    const b = featureParamsKey(normalizeFeatureOptions({ params: { nfeatures: 10 } }));
    assert.equal(a, b);
    assert.equal(a, 'sift:contrastThreshold=0.04,edgeThreshold=10,nOctaveLayers=3,nfeatures=10,sigma=1.6');
    assert.notEqual(a, featureParamsKey(normalizeFeatureOptions({ params: { nfeatures: 11 } })));
    assert.notEqual(
      featureParamsKey(normalizeFeatureOptions({ detector: 'orb' })),
      featureParamsKey(normalizeFeatureOptions({ detector: 'orb', params: { scoreType: 'fast' } })),
    );
  });
});
