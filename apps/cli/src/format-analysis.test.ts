import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exampleImageView } from '@imgpipe/contracts';
import { formatAnalysis } from './format-analysis.ts';

describe('formatAnalysis (imgpipe results, imgpipe analyze)', () => {
  test("shows the producer's attributes, values quoted so a newline or a comma cannot blur them", () => {
    const view = { ...exampleImageView(), attributes: { album: 'trips', note: 'two\nlines, "quoted"' } };
    const lines = formatAnalysis('bus.jpg', view).split('\n');
    assert.equal(lines[1], '  attrs    album="trips", note="two\\nlines, \\"quoted\\""');
  });

  test('no attributes line when there are none', () => {
    const text = formatAnalysis('bus.jpg', { ...exampleImageView(), attributes: {} });
    assert.doesNotMatch(text, /attrs/);
  });
});
