/**
 * `imgpipe sign-url` as a user runs it: the URL it prints is checked by the API's own verifier (RenditionSigner, as
 * GET /v1/renditions/... checks it), with the tenant, id and canonical recipe read back from the URL; the same URL
 * with any part changed is refused; usage mistakes and malformed recipes exit 2, a missing key 78.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImgpipeError } from '@imgpipe/core';
import { RenditionSigner } from '@imgpipe/http-api';

const IMGPIPE = fileURLToPath(new URL('../../bin/imgpipe.js', import.meta.url));
const KEY = 'sign-url-test-key-of-more-than-32-characters';
const IMAGE = '0B6F2A4E-3C1D-4F5E-8A9B-0C1D2E3F4A5B';

function signUrl(args: string[], key: string | null = KEY): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['IMGPIPE_RENDITION_SIGNING_KEY'];
  if (key !== null) env['IMGPIPE_RENDITION_SIGNING_KEY'] = key;
  return new Promise((resolve) => {
    execFile(process.execPath, [IMGPIPE, 'sign-url', ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The parts of a signed URL as the API's route reads them: path segments decoded, expires and signature. */
function parts(url: string) {
  const parsed = new URL(url);
  const [, v1, renditions, tenantId, imageId, recipe] = parsed.pathname.split('/');
  assert.deepEqual([v1, renditions], ['v1', 'renditions']);
  return {
    target: {
      tenantId: decodeURIComponent(tenantId!),
      imageId: decodeURIComponent(imageId!),
      recipe: decodeURIComponent(recipe!),
    },
    expires: parsed.searchParams.get('expires') ?? undefined,
    signature: parsed.searchParams.get('signature') ?? undefined,
    origin: parsed.origin,
  };
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof ImgpipeError ? error.code : String(error);
  }
}

describe('imgpipe sign-url', () => {
  test("prints a URL the API's verifier accepts, for the canonical recipe; a tampered one it refuses", async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await signUrl([
      IMAGE,
      'RESIZE:300x200:Cover/format:jpg:80',
      '--tenant',
      'acme',
      '--expires',
      '2h',
      '--base-url',
      'https://img.example.com/',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { url: string; expiresAt: string; recipe: string };
    assert.equal(printed.recipe, 'resize:300x200:cover/format:jpeg:80');
    const { target, expires, signature, origin } = parts(printed.url);
    assert.equal(origin, 'https://img.example.com');
    assert.deepEqual(target, { tenantId: 'acme', imageId: IMAGE.toLowerCase(), recipe: printed.recipe });
    const lifetime = Number(expires) - before;
    assert.ok(lifetime >= 7200 && lifetime <= 7200 + 60, `expires ${lifetime} s from now`);
    assert.equal(new Date(printed.expiresAt).getTime(), Number(expires) * 1000);

    const verifier = new RenditionSigner(KEY);
    assert.equal(
      codeOf(() => verifier.verify(target, expires, signature)),
      undefined,
    );
    const tampered = [
      { ...target, recipe: 'resize:300x201:cover/format:jpeg:80' },
      { ...target, tenantId: 'acme2' },
      { ...target, imageId: target.imageId.replace(/^0/, '1') },
    ];
    for (const changed of tampered) {
      assert.equal(
        codeOf(() => verifier.verify(changed, expires, signature)),
        'RENDITION_SIGNATURE_INVALID',
      );
    }
    assert.equal(
      codeOf(() => verifier.verify(target, String(Number(expires) + 1), signature)),
      'RENDITION_SIGNATURE_INVALID',
    );
    const flipped = `${signature!.slice(0, -2)}${signature!.at(-2) === 'A' ? 'B' : 'A'}${signature!.at(-1)}`;
    assert.equal(
      codeOf(() => verifier.verify(target, expires, flipped)),
      'RENDITION_SIGNATURE_INVALID',
    );
    // Another key's verifier (another deployment) refuses it too.
    assert.equal(
      codeOf(() => new RenditionSigner(`${KEY}-other`).verify(target, expires, signature)),
      'RENDITION_SIGNATURE_INVALID',
    );
    // Plain output is the URL alone.
    const plain = await signUrl([IMAGE, 'resize:100x', '--tenant', 'acme']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout.trim(),
      /^http:\/\/localhost:\d+\/v1\/renditions\/acme\/[0-9a-f-]{36}\/resize%3A100x\?expires=\d+&signature=[\w-]{43}$/,
    );
  });

  test('usage mistakes and malformed recipes exit 2, a missing signing key 78', async () => {
    const cases: [string[], number, RegExp][] = [
      [[IMAGE, 'explode:3', '--tenant', 'acme'], 2, /RECIPE_UNKNOWN_OPERATION/],
      [[IMAGE, 'resize:0x10', '--tenant', 'acme'], 2, /RECIPE_INVALID_ARGUMENT/],
      [[IMAGE, 'resize:10x10'], 2, /--tenant is required/],
      [['not-an-id', 'resize:10x10', '--tenant', 'acme'], 2, /not an image id/],
      [[IMAGE, 'resize:10x10', '--tenant', 'acme', '--expires', '30d'], 2, /--expires/],
    ];
    for (const [args, code, message] of cases) {
      const run = await signUrl(args);
      assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    }
    const keyless = await signUrl([IMAGE, 'resize:10x10', '--tenant', 'acme'], null);
    assert.equal(keyless.code, 78);
    assert.match(keyless.stderr, /IMGPIPE_RENDITION_SIGNING_KEY/);
  });
});
