import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exampleImageSummary, exampleImageView, ImageView } from '@imgpipe/contracts';
import Fastify from 'fastify';
import { imageViewSchema, SHARED_SCHEMAS } from './schemas.ts';

/** A server that answers with the given body through a response schema, as the API's routes do. */
async function serialised(ref: string, body: unknown): Promise<unknown> {
  const app = Fastify();
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.get('/', { schema: { response: { 200: { $ref: `${ref}#` } } } }, async () => body);
  try {
    const response = await app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  } finally {
    await app.close();
  }
}

// Response schemas drive serialisation: a field the schema lacks is silently dropped from every response.
describe('the API schemas of the result views', () => {
  test('an image with every field of the contract set comes out of the Image schema unchanged', async () => {
    assert.deepEqual(await serialised('Image', exampleImageView()), exampleImageView());
  });

  test('a search summary comes out of the ImageSummary schema unchanged', async () => {
    assert.deepEqual(await serialised('ImageSummary', exampleImageSummary()), exampleImageSummary());
  });

  test('a deduplicated upload carries the whole image', async () => {
    const accepted = {
      imageId: exampleImageView().imageId,
      status: 'partial',
      deduplicated: true,
      sourceName: 'bus.jpg',
      links: { self: '/v1/images/x', events: '/v1/images/x/events', annotated: '/v1/images/x/annotated' },
      result: exampleImageView(),
    };
    assert.deepEqual(await serialised('AcceptedImage', accepted), accepted);
  });

  test('the Image schema requires exactly the contract fields that are not optional', () => {
    const required = Object.entries(ImageView.fields)
      .filter(([, field]) => !field.optional)
      .map(([name]) => name);
    assert.deepEqual(imageViewSchema['required'], required);
    assert.deepEqual(Object.keys(imageViewSchema['properties'] as object), Object.keys(ImageView.fields));
  });
});

test('the analyses list pattern takes the same lists as before and never backtracks on long input', async () => {
  const { multipartFieldsSchema } = await import('./upload-schemas.ts');
  const pattern = new RegExp(multipartFieldsSchema.properties.analyses.pattern);
  for (const good of ['', 'detect', ' detect , ocr ', 'detect,,ocr', ',', 'faces,ocr,detect']) {
    assert.ok(pattern.test(good), JSON.stringify(good));
  }
  for (const bad of ['detect ocr', 'foo', 'detect;ocr']) assert.ok(!pattern.test(bad), JSON.stringify(bad));
  // Whitespace and commas then a stray character: the earlier pattern backtracked polynomially on this (a multipart
  // option part of a few hundred kilobytes held the event loop for minutes); a linear one answers at once.
  assert.equal(pattern.test(`${' '.repeat(200_000)}x`), false);
  assert.equal(pattern.test(`${', '.repeat(100_000)}x`), false);
  assert.equal(multipartFieldsSchema.properties.analyses.maxLength, 200);
});

test("the renditions option takes exactly the deployment's preset names, in text and in JSON", async () => {
  const { uploadSchemas } = await import('./upload-schemas.ts');
  const schemas = uploadSchemas(['thumb', 'web']);
  const pattern = new RegExp(schemas.query.properties.renditions.pattern);
  for (const good of ['', 'thumb', ' thumb , web ', 'web,,thumb', ','])
    assert.ok(pattern.test(good), JSON.stringify(good));
  for (const bad of ['poster', 'thumbx', 'thumb web', 'thumb;web']) assert.ok(!pattern.test(bad), JSON.stringify(bad));
  assert.equal(pattern.test(`${', '.repeat(100_000)}x`), false);
  assert.deepEqual(schemas.urlUpload.properties.renditions.items, { type: 'string', enum: ['thumb', 'web'] });
  assert.equal(schemas.urlUpload.properties.renditions.maxItems, 16, 'repeats are allowed (dropped), up to 16');
  // Without presets nothing but an empty list is valid.
  const none = uploadSchemas([]);
  const nothing = new RegExp(none.query.properties.renditions.pattern);
  assert.ok(nothing.test('') && nothing.test(' , '));
  assert.ok(!nothing.test('thumb'));
});
