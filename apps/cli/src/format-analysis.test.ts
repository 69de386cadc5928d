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

  test('lists each barcode or QR code with its format, quoted text and box', () => {
    const lines = formatAnalysis('bus.jpg', exampleImageView()).split('\n');
    assert.ok(
      lines.includes('  code     QRCode "https://example.com/timetable/42" at 900,120 100×100'),
      lines.join('\n'),
    );
  });

  test('lists each rendition with its size, format, recipe and key, and a failed transform with its code', () => {
    const view = exampleImageView();
    const [rendition] = view.renditions;
    const lines = formatAnalysis('bus.jpg', view).split('\n');
    assert.ok(
      lines.includes(`  rendition thumb  320×320 webp 9874 B  resize:320x320:cover/format:webp:80  ${rendition!.key}`),
      lines.join('\n'),
    );
    const error = { code: 'RENDITION_PRESET_UNKNOWN' as const, message: 'unknown rendition preset: poster' };
    const failed = formatAnalysis('bus.jpg', { ...view, renditions: [], transform: { status: 'failed', error } });
    assert.match(failed, /transform failed: RENDITION_PRESET_UNKNOWN: unknown rendition preset: poster/);
    assert.doesNotMatch(failed, /rendition thumb/);
  });

  test('shows the keypoint count, detector, size, the strongest positions and the stored key; a failed stage its code', () => {
    const view = exampleImageView();
    const lines = formatAnalysis('bus.jpg', view).split('\n');
    assert.ok(
      lines.includes(
        `  features 1247 sift keypoints (long side <= 1280 px)  strongest at 612.3,388.8  101.5,733.0  ${view.features!.descriptorsKey}`,
      ),
      lines.join('\n'),
    );
    const error = { code: 'IMAGE_CORRUPT' as const, message: 'the image data is corrupt' };
    const { features: _features, ...rest } = view;
    const failed = formatAnalysis('bus.jpg', { ...rest, featuresStage: { status: 'failed', error } });
    assert.match(failed, /features failed: IMAGE_CORRUPT: the image data is corrupt/);
    assert.doesNotMatch(failed, /keypoints/);
  });
});
