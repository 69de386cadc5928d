/**
 * Signed, expiring rendition URLs, as imgproxy and thumbor sign theirs: an HMAC-SHA256, with the configured key
 * (IMGPIPE_RENDITION_SIGNING_KEY), over the method, the path exactly as it was signed (tenant, image id and recipe
 * text, decoded) and the expiry in Unix seconds. Any change to any of them, or to the signature, fails the check;
 * signatures are compared in constant time. The signed path names the tenant, so the URL needs no token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import { formatRecipe, type Recipe } from '@imgpipe/imaging/recipe';

/** Longest lifetime a caller may ask for: a week. */
export const MAX_SIGNED_TTL_SECONDS = 7 * 24 * 60 * 60;
export const DEFAULT_SIGNED_TTL_SECONDS = 60 * 60;

export interface SignedTarget {
  tenantId: string;
  imageId: string;
  /** The recipe as it appears in the URL (decoded): the signature covers exactly this text. */
  recipe: string;
}

/** The path of a signed rendition, each part percent-encoded (the recipe's `/` as %2F: one path segment). */
export function signedPath(target: SignedTarget): string {
  return `/v1/renditions/${encodeURIComponent(target.tenantId)}/${encodeURIComponent(target.imageId)}/${encodeURIComponent(target.recipe)}`;
}

function mac(key: string, target: SignedTarget, expires: string): Buffer {
  return createHmac('sha256', key)
    .update(`GET\n${target.tenantId}\n${target.imageId}\n${target.recipe}\n${expires}`)
    .digest();
}

export class RenditionSigner {
  readonly #key: string | undefined;

  constructor(key: string | undefined) {
    this.#key = key;
  }

  /** A signed URL (path and query) for the target, valid until `expiresAt` (Unix seconds). */
  sign(target: SignedTarget, expiresAt: number): string {
    if (this.#key === undefined) {
      throw new ImgpipeError(
        'RENDITION_SIGNING_UNCONFIGURED',
        'signed rendition URLs need IMGPIPE_RENDITION_SIGNING_KEY, which is not set',
      );
    }
    const expires = String(expiresAt);
    const signature = mac(this.#key, target, expires).toString('base64url');
    return `${signedPath(target)}?expires=${expires}&signature=${signature}`;
  }

  /**
   * Checks a request's expiry and signature: RENDITION_SIGNATURE_MISSING when either is absent,
   * RENDITION_SIGNATURE_INVALID when the signature does not match (or no key is configured, so none can),
   * RENDITION_SIGNATURE_EXPIRED when it matches but the time has passed. All 403.
   */
  verify(target: SignedTarget, expires: string | undefined, signature: string | undefined, nowMs = Date.now()): void {
    if (!expires || !signature) {
      throw new ImgpipeError(
        'RENDITION_SIGNATURE_MISSING',
        'a rendition URL without a token needs expires and signature',
      );
    }
    const given = /^[A-Za-z0-9_-]{43}$/.test(signature) ? Buffer.from(signature, 'base64url') : undefined;
    const expected = this.#key === undefined ? undefined : mac(this.#key, target, expires);
    // The canonical encoding only: base64url of 32 bytes is 43 characters whose last carries 2 spare bits.
    const canonical = given !== undefined && given.toString('base64url') === signature;
    if (
      expected === undefined ||
      given === undefined ||
      !canonical ||
      given.length !== expected.length ||
      !timingSafeEqual(given, expected)
    ) {
      throw new ImgpipeError('RENDITION_SIGNATURE_INVALID', 'the signature does not match the path and expiry');
    }
    if (!/^[0-9]{1,12}$/.test(expires) || Number(expires) * 1000 <= nowMs) {
      throw new ImgpipeError('RENDITION_SIGNATURE_EXPIRED', `the signed URL expired at ${expires} (Unix seconds)`);
    }
  }
}

export interface SignedRendition {
  /** Path and query, relative to the API's base URL. */
  url: string;
  expiresAt: Date;
  /** The canonical recipe the URL names. */
  recipe: string;
}

/**
 * A signed URL of a tenant's image with a recipe, valid for `ttlSeconds` from `nowMs`: the recipe written in its
 * canonical form (formatRecipe), so every spelling of it signs one URL. POST /v1/images/{id}/rendition-urls and
 * `imgpipe sign-url` both sign through this.
 */
export function signRendition(
  signer: RenditionSigner,
  target: { tenantId: string; imageId: string; recipe: Recipe },
  ttlSeconds: number,
  nowMs = Date.now(),
): SignedRendition {
  const expiresAt = Math.floor(nowMs / 1000) + ttlSeconds;
  const recipe = formatRecipe(target.recipe);
  const url = signer.sign({ tenantId: target.tenantId, imageId: target.imageId, recipe }, expiresAt);
  return { url, expiresAt: new Date(expiresAt * 1000), recipe };
}
