import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { RenditionSigner, signedPath } from './rendition-signing.ts';

const KEY = 'k'.repeat(32) + '-rendition-test-key';
const target = {
  tenantId: 'acme',
  imageId: '0b6f2a4e-3c1d-4f5e-8a9b-0c1d2e3f4a5b',
  recipe: 'resize:300x200:cover/format:webp',
};
const NOW = 1_800_000_000_000;

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof ImgpipeError ? error.code : String(error);
  }
}

function parse(url: string) {
  const parsed = new URL(url, 'http://api.test');
  return {
    path: parsed.pathname,
    expires: parsed.searchParams.get('expires')!,
    signature: parsed.searchParams.get('signature')!,
  };
}

test('a signed URL is the path with expires and an HMAC-SHA256 computed independently here', () => {
  const signer = new RenditionSigner(KEY);
  const url = signer.sign(target, NOW / 1000 + 60);
  const { path, expires, signature } = parse(url);
  assert.equal(path, signedPath(target));
  assert.equal(decodeURIComponent(path.split('/').pop()!), target.recipe);
  const expected = createHmac('sha256', KEY)
    .update(`GET\nacme\n${target.imageId}\n${target.recipe}\n${expires}`)
    .digest('base64url');
  assert.equal(signature, expected);
  assert.equal(
    codeOf(() => signer.verify(target, expires, signature, NOW)),
    undefined,
  );
});

test('expired, tampered and unsigned are refused with their codes', () => {
  const signer = new RenditionSigner(KEY);
  const { expires, signature } = parse(signer.sign(target, NOW / 1000 + 60));
  assert.equal(
    codeOf(() => signer.verify(target, expires, signature, NOW + 61_000)),
    'RENDITION_SIGNATURE_EXPIRED',
  );
  assert.equal(
    codeOf(() => signer.verify(target, undefined, signature, NOW)),
    'RENDITION_SIGNATURE_MISSING',
  );
  assert.equal(
    codeOf(() => signer.verify(target, expires, undefined, NOW)),
    'RENDITION_SIGNATURE_MISSING',
  );
  // Every character of the recipe, the id, the tenant, the expiry and the signature changed in turn.
  const flip = (text: string, index: number) =>
    text.slice(0, index) + (text[index] === 'a' ? 'b' : 'a') + text.slice(index + 1);
  for (const field of ['tenantId', 'imageId', 'recipe'] as const) {
    for (let index = 0; index < target[field].length; index++) {
      const tampered = { ...target, [field]: flip(target[field], index) };
      assert.equal(
        codeOf(() => signer.verify(tampered, expires, signature, NOW)),
        'RENDITION_SIGNATURE_INVALID',
      );
    }
  }
  for (let index = 0; index < expires.length; index++) {
    const later = expires.slice(0, index) + ((Number(expires[index]) + 1) % 10) + expires.slice(index + 1);
    assert.equal(
      codeOf(() => signer.verify(target, later, signature, NOW)),
      'RENDITION_SIGNATURE_INVALID',
    );
  }
  for (let index = 0; index < signature.length; index++) {
    assert.equal(
      codeOf(() => signer.verify(target, expires, flip(signature, index), NOW)),
      'RENDITION_SIGNATURE_INVALID',
      `signature character ${index}`,
    );
  }
  assert.equal(
    codeOf(() => signer.verify(target, expires, `${signature}=`, NOW)),
    'RENDITION_SIGNATURE_INVALID',
  );
  assert.equal(
    codeOf(() => new RenditionSigner(`${KEY}x`).verify(target, expires, signature, NOW)),
    'RENDITION_SIGNATURE_INVALID',
  );
});

test('without a key nothing is signed or accepted', () => {
  const signer = new RenditionSigner(undefined);
  assert.equal(
    codeOf(() => signer.sign(target, NOW / 1000 + 60)),
    'RENDITION_SIGNING_UNCONFIGURED',
  );
  const { expires, signature } = parse(new RenditionSigner(KEY).sign(target, NOW / 1000 + 60));
  assert.equal(
    codeOf(() => signer.verify(target, expires, signature, NOW)),
    'RENDITION_SIGNATURE_INVALID',
  );
});
