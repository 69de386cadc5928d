import { createHash, randomBytes } from 'node:crypto';

/** `irt_` + 43 base64url characters: 256 random bits. */
export const REFRESH_TOKEN_PATTERN = /^irt_[A-Za-z0-9_-]{43}$/;

export function newRefreshToken(): string {
  return `irt_${randomBytes(32).toString('base64url')}`;
}

/** What is stored: SHA-256 in hex. The token is 256 random bits, so a slow hash would add nothing. */
export function refreshTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
